package transporttest

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// SilentServer starts a TCP server on 127.0.0.1 that accepts connections,
// reads what comes and never answers, and returns a [HungDial] for it: the
// [Harness.Hang] of a transport that dials TCP (WebSocket, HTTP), whose
// dial then hangs in its handshake. scheme is the URL scheme of the
// Target, such as "ws" or "http". The server stops at t's cleanup, and
// its goroutines with it.
func SilentServer(t *testing.T, scheme string) HungDial {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &silent{ln: ln, changed: make(chan struct{}), open: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.stop)
	return HungDial{
		Target:   transport.Target{URL: scheme + "://" + ln.Addr().String() + "/transporttest/hang"},
		Reached:  func(ctx context.Context) error { return s.await(ctx, func() bool { return s.accepted > 0 }) },
		Released: func(ctx context.Context) error { return s.await(ctx, func() bool { return len(s.open) == 0 }) },
	}
}

// silent is the server of SilentServer.
type silent struct {
	ln net.Listener
	wg sync.WaitGroup // the accept loop and one reader per connection

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced at every change below
	accepted int
	open     map[net.Conn]struct{} // connections the client has not closed
	stopped  bool
}

func (s *silent) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.accepted++
		s.open[c] = struct{}{}
		s.wg.Add(1)
		s.broadcastLocked()
		s.mu.Unlock()
		go s.drain(c)
	}
}

// drain reads c until the client closes it (or stop does).
func (s *silent) drain(c net.Conn) {
	defer s.wg.Done()
	_, _ = io.Copy(io.Discard, c)
	_ = c.Close()
	s.mu.Lock()
	delete(s.open, c)
	s.broadcastLocked()
	s.mu.Unlock()
}

// await blocks until cond, called with s.mu held, reports true, or ctx
// ends.
func (s *silent) await(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *silent) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// stop closes the listener and every connection, and waits for the
// goroutines.
func (s *silent) stop() {
	_ = s.ln.Close()
	s.mu.Lock()
	s.stopped = true
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
