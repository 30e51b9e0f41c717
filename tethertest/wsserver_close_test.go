package tethertest_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// TestCloseWhileConnectionsArrive closes the server while clients keep
// dialing, upgrades are under way, handlers echo and a goroutine accepts.
// Close, called twice at once, must not race with any of them (run it under
// -race, several times), and every handler must have returned when either
// call does. The server used to
// close its accept channel while an upgrade could still send on it, and
// start handlers after Close had stopped waiting for them.
func TestCloseWhileConnectionsArrive(t *testing.T) {
	for round := range 50 {
		hammerClose(t, round%2 == 0)
	}
}

func hammerClose(t *testing.T, withHandler bool) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	var closed atomic.Bool // Close has returned
	arrived := make(chan struct{}, 3)
	var opts []tethertest.WSServerOption
	if withHandler {
		opts = append(opts, tethertest.WithHandler(func(c *tethertest.WSConn) {
			assert.False(t, closed.Load(), "a handler started after Close returned")
			signal(arrived)
			for {
				m, err := c.Recv(context.Background())
				if err != nil {
					break // the connection ended
				}
				_ = c.Send(m.Type, m.Payload)
			}
			assert.False(t, closed.Load(), "a handler returned after Close did")
		}))
	}
	srv := tethertest.NewWSServer(opts...)

	var clients sync.WaitGroup
	if !withHandler {
		clients.Go(func() {
			for {
				c, err := srv.Accept(ctx)
				if err != nil {
					assert.ErrorIs(t, err, tethertest.ErrServerClosed)
					return
				}
				_ = c.Send(transport.Text, []byte("hi")) // fails once Close drops it
				signal(arrived)
			}
		})
	}
	tr := newTransport(t)
	for range 8 {
		clients.Go(func() {
			for { // until the server has closed
				c, err := tr.Dial(ctx, transport.Target{URL: srv.URL})
				if err != nil {
					return
				}
				_ = c.Write(ctx, transport.Text, []byte("x"))
				_ = c.Close(transport.StatusNormalClosure, "")
			}
		})
	}
	for range 3 {
		select {
		case <-arrived:
		case <-ctx.Done():
			require.FailNow(t, "no connection arrived")
		}
	}
	var closers sync.WaitGroup
	for range 2 { // each Close waits for everything, the first or not
		closers.Go(func() {
			srv.Close()
			closed.Store(true)
		})
	}
	closers.Wait()
	clients.Wait()
	_, err := srv.Accept(ctx)
	require.ErrorIs(t, err, tethertest.ErrServerClosed)
}

// signal sends on ch unless its buffer is full.
func signal(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
