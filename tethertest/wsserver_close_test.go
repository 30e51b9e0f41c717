package tethertest_test

import (
	"context"
	"errors"
	"net"
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

// TestNothingFollowsTheServersCloseFrame: once the server's close frame is
// sent, Send, Ping and a second Close return net.ErrClosed and write
// nothing, though the client has not answered yet (an outside review saw a
// Send racing the answer to the client's close frame write a data frame
// after it and return nil).
func TestNothingFollowsTheServersCloseFrame(t *testing.T) {
	srv := tethertest.NewWSServer()
	defer srv.Close()
	c := dial(t, srv.URL) // reads nothing until the test does: it does not answer yet
	defer c.Close(transport.StatusNormalClosure, "")
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	require.NoError(t, sc.Send(transport.Text, []byte("before")))
	require.NoError(t, sc.Close(transport.StatusNormalClosure, "bye"))
	require.ErrorIs(t, sc.Send(transport.Text, []byte("after")), net.ErrClosed)
	require.ErrorIs(t, sc.Ping(nil), net.ErrClosed)
	require.ErrorIs(t, sc.Close(transport.StatusNormalClosure, ""), net.ErrClosed)

	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "before", string(m.Payload))
	_, err = c.Read()
	ce, ok := errors.AsType[*transport.CloseError](err)
	require.True(t, ok, "the close frame comes next: %v", err)
	assert.Equal(t, transport.StatusNormalClosure, ce.Code)
}
