package tethertest

import "context"

// WaitHeld blocks until exactly n upgrades are held for want of room in the
// accept backlog, or ctx ends.
func WaitHeld(ctx context.Context, s *WSServer, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.held != n {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.wait(ctx.Done())
	}
	return nil
}
