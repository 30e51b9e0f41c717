package websocket

import (
	"context"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// gatedConn counts the Write calls that reach the network and, while held,
// keeps every one of them waiting, as a peer that stops reading would.
// With yield set, every Write lets the other goroutines run before it
// writes, as a system call that takes time does; a loopback write of a few
// bytes returns so fast that writers on one P would otherwise take turns.
type gatedConn struct {
	net.Conn
	writes  atomic.Int64
	yield   atomic.Bool
	entered chan struct{} // a value each time a Write starts waiting
	shut    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	gate chan struct{} // nil while writes pass
}

func newGatedConn(c net.Conn) *gatedConn {
	return &gatedConn{Conn: c, entered: make(chan struct{}, 64), shut: make(chan struct{})}
}

func (c *gatedConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	if c.yield.Load() {
		runtime.Gosched()
	}
	c.mu.Lock()
	gate := c.gate
	c.mu.Unlock()
	if gate != nil {
		c.entered <- struct{}{}
		select {
		case <-gate:
		case <-c.shut:
			return 0, net.ErrClosed
		}
	}
	return c.Conn.Write(p)
}

func (c *gatedConn) Close() error {
	c.once.Do(func() { close(c.shut) })
	return c.Conn.Close()
}

// hold makes the next writes wait until open.
func (c *gatedConn) hold() {
	c.mu.Lock()
	c.gate = make(chan struct{})
	c.mu.Unlock()
}

// open lets the waiting writes, and every later one, through.
func (c *gatedConn) open() {
	c.mu.Lock()
	if c.gate != nil {
		close(c.gate)
		c.gate = nil
	}
	c.mu.Unlock()
}

// awaitEntered waits until a Write is held at the gate.
func (c *gatedConn) awaitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-c.entered:
	case <-time.After(wait):
		require.FailNow(t, "no write reached the network")
	}
}

// connectGated dials through a gatedConn and returns the client, the
// gatedConn (writes counted from after the handshake) and the server's end.
func connectGated(t *testing.T, opts ...Option) (*conn, *gatedConn, *peer) {
	t.Helper()
	s := newServer(t)
	made := make(chan *gatedConn, 1)
	opts = append([]Option{WithProxy(nil), WithNetDial(func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		g := newGatedConn(c)
		made <- g
		return g, nil
	})}, opts...)
	c := dial(t, newTransport(t, opts...), transport.Target{URL: s.url})
	g := <-made
	g.writes.Store(0) // the handshake does not count
	return c.(*conn), g, s.next()
}

// await waits for ch to deliver or close, or fails the test.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		require.FailNow(t, what)
		var zero T
		return zero
	}
}
