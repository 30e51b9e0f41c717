package adapters

import (
	"context"
	"sync"
)

// waitGroup waits for wg, or until ctx ends. The adapters' Wait methods
// use it; the goroutine it starts ends with wg.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
