package tether_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// pingWatch is a transport whose connections report when a Ping failed:
// the moment the heartbeat learns the peer is gone.
type pingWatch struct {
	transport.Transport
	failed chan struct{}
	once   sync.Once
}

func (p *pingWatch) Dial(ctx context.Context, t transport.Target) (transport.Conn, error) {
	c, err := p.Transport.Dial(ctx, t)
	if err != nil {
		return nil, err
	}
	return &pingWatchConn{Conn: c, w: p}, nil
}

type pingWatchConn struct {
	transport.Conn
	w *pingWatch
}

func (c *pingWatchConn) Ping(ctx context.Context, payload []byte) error {
	err := c.Conn.Ping(ctx, payload)
	if err != nil {
		c.w.once.Do(func() { close(c.w.failed) })
	}
	return err
}

func (c *pingWatchConn) Unwrap() transport.Conn { return c.Conn }

// goneServer serves one connection: it sends n numbered binary messages,
// then goes away. It hangs up after the burst (a FIN), waits until the
// client's kernel has the whole burst, reads the client's next frame (a
// ping) and closes: the client's pings after that fail. It returns the URL and a
// transport that reports the first failed ping.
func goneServer(t *testing.T, n int) (string, *pingWatch) {
	t.Helper()
	url := serveOnce(t, func(c net.Conn) {
		for i := range n {
			if err := ws.WriteFrame(c, ws.NewBinaryFrame([]byte(strconv.Itoa(i)))); err != nil {
				return
			}
		}
		_ = c.(*net.TCPConn).CloseWrite()
		// The close below is a reset (the client's pings are unread),
		// and a reset throws away what this side's kernel has not sent:
		// on a loaded machine part of the burst was still here, and the
		// client could not count what never reached it (150 to 1,800 of
		// 5,000 under -race beside two busy loops). Wait until the
		// client's kernel has it all, which keeps it across the reset.
		waitDelivered(c)
		if h, err := ws.ReadHeader(c); err == nil {
			_, _ = io.CopyN(io.Discard, c, h.Length)
		}
	})
	inner, err := websocket.New(websocket.WithProxy(nil))
	require.NoError(t, err)
	return url, &pingWatch{Transport: inner, failed: make(chan struct{})}
}

// waitDelivered waits until the peer of c acknowledged every byte written
// to it, for at most the test deadline.
func waitDelivered(c net.Conn) {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	limit := time.After(deadline)
	for unsentBytes(c) > 0 {
		select {
		case <-tick.C:
		case <-limit:
			return
		}
	}
}

// goneClient is a client of a goneServer sending n messages, with a fast
// heartbeat and no reconnect.
func goneClient(t *testing.T, n int) (*tether.Client[[]byte], *pingWatch) {
	t.Helper()
	url, tr := goneServer(t, n)
	c := newClient[[]byte](t, url, tether.WithTransport(tr),
		tether.WithHeartbeat(policy.Heartbeat{Interval: 50 * time.Millisecond, PongTimeout: 25 * time.Millisecond}),
		tether.WithReconnect(policy.Never()))
	return c, tr
}

// TestServerGoneWhileTheReaderIsBusyIsAccounted: the server sends a burst
// and goes away while the only subscriber has stalled, so most of the
// burst is still in the client's socket. The heartbeat's ping fails and
// the connection ends. Every message the server sent is then either
// delivered or reported (an outside review found up to 4,500 of 5,000
// gone without a count): what the socket still held when the connection
// ended is counted in Stats.InboundDrops and reported.
func TestServerGoneWhileTheReaderIsBusyIsAccounted(t *testing.T) {
	const n = 5000
	c, tr := goneClient(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	release := make(chan struct{})
	msgs := c.Messages(ctx, stream.WithBuffer(16))
	got := make(chan int, 1)
	go func() {
		count := 0
		for range msgs.All() {
			if count++; count == 1 {
				<-release // stalled until the heartbeat found the server gone
			}
		}
		got <- count
	}()

	select {
	case <-tr.failed:
	case <-ctx.Done():
		require.FailNow(t, "the heartbeat's ping never failed")
	}
	close(release)
	for st := c.State(); st != fsm.Closed; st = c.State() {
		require.True(t, c.WaitForStateChange(ctx, st), "the client never gave up")
	}
	<-c.Done()
	delivered := <-got
	st := c.Stats()
	assert.EqualValues(t, n, uint64(delivered)+st.InboundDrops+msgs.Dropped(),
		"delivered %d, reported %d: every message the server sent is one or the other", delivered, st.InboundDrops)
}

// TestServerGoneWhileHoldingIsAccounted: the same with nothing consuming
// yet, the hold full: the reader waiting for a first consumer learns that
// the connection ended (a failed ping), reads on to its end, and the
// client moves on (here it gives up: no reconnect) without waiting for a
// consumer that may never come. Every message is reported: those held
// when the client shuts down, and those the socket still held.
func TestServerGoneWhileHoldingIsAccounted(t *testing.T) {
	const n = 5000
	c, _ := goneClient(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for st := c.State(); st != fsm.Closed; st = c.State() {
		require.True(t, c.WaitForStateChange(ctx, st), "the client never left the dead connection (state %s)", st)
	}
	<-c.Done()
	st := c.Stats()
	assert.EqualValues(t, tether.DefaultHold, st.MessagesIn, "the hold was full")
	assert.EqualValues(t, n, st.InboundDrops, "none delivered, every one reported")
}
