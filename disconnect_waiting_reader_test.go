package tether_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// Sizes of the burst the second connection's server sends after the
// client's close frame: well past the 1 MiB the WebSocket Close reads
// ahead for a reader that is away.
const (
	burstMessages = 400
	burstSize     = 8 << 10
)

// burstPayload is late message i of the second connection.
func burstPayload(i int) string {
	s := fmt.Sprintf("b-%d|", i)
	return s + strings.Repeat("y", burstSize-len(s))
}

// serveBurst answers a WebSocket client: it sends "hello-<n>" at once,
// and once it has read the client's close frame it sends late data
// messages (burstMessages of them for connection 2, none for the others)
// before it answers the close.
func serveBurst(c net.Conn, n int) {
	defer c.Close()
	if _, err := ws.Upgrade(c); err != nil {
		return
	}
	if ws.WriteFrame(c, ws.NewTextFrame([]byte(fmt.Sprintf("hello-%d", n)))) != nil {
		return
	}
	br := bufio.NewReader(c)
	payload, ok := awaitCloseFrame(br)
	if !ok {
		return
	}
	bw := bufio.NewWriter(c)
	if n == 2 {
		for i := range burstMessages {
			_ = ws.WriteFrame(bw, ws.NewTextFrame([]byte(burstPayload(i))))
		}
	}
	_ = ws.WriteFrame(bw, ws.NewCloseFrame(payload[:min(len(payload), 2)]))
	if bw.Flush() != nil {
		return
	}
	_, _ = io.Copy(io.Discard, br)
}

// handbackConn is the client's side of a TCP connection, seen by the test:
// once armed, it calls fire when the WebSocket Close hands the input back
// to the reader after reading ahead (it clears its read deadline), or when
// more than past bytes have been read (Close read well past what it keeps
// for the reader: it is throwing messages away).
type handbackConn struct {
	net.Conn
	armed atomic.Bool
	read  atomic.Int64
	past  int64
	fire  func()
}

func (w *handbackConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if w.armed.Load() && w.read.Add(int64(n)) > w.past {
		w.fire()
	}
	return n, err
}

func (w *handbackConn) SetReadDeadline(t time.Time) error {
	if w.armed.Load() && t.IsZero() {
		w.fire()
	}
	return w.Conn.SetReadDeadline(t)
}

// TestDisconnectWaitsForAReaderStillBusyWithThePreviousConnection: a
// connection's reader first waits for the previous connection's reader to
// finish its handlers, so that messages stay in order. A Disconnect in
// that time used to find a connection whose Read had never been called:
// the WebSocket Close took it for a connection nobody reads, kept 1 MiB
// of what the server sent before its answer and threw the rest away
// (reported as ErrDiscarded), although the reader came for them. Now the
// client tells the transport a reader is coming as the connection opens:
// Close waits for it, and every message is delivered.
//
// The first connection's handler holds its reader until Close of the
// second connection has either handed the input back (it waits for the
// reader: the fix) or read far past what it keeps (it throws messages
// away: the defect), so the outcome does not depend on timing.
func TestDisconnectWaitsForAReaderStillBusyWithThePreviousConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var srvWG sync.WaitGroup
	var srvMu sync.Mutex
	var srvConns []net.Conn
	srvWG.Go(func() {
		for n := 1; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			srvMu.Lock()
			srvConns = append(srvConns, c)
			srvMu.Unlock()
			srvWG.Go(func() { serveBurst(c, n) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		srvMu.Lock()
		for _, c := range srvConns {
			_ = c.Close()
		}
		srvMu.Unlock()
		srvWG.Wait()
	})

	release := make(chan struct{})
	var releaseOnce sync.Once
	fire := func() { releaseOnce.Do(func() { close(release) }) }
	var connMu sync.Mutex
	var conns []*handbackConn
	wst, err := websocket.New(websocket.WithNetDial(func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		w := &handbackConn{Conn: nc, past: 3 << 19, fire: fire} // 1.5 MiB
		connMu.Lock()
		conns = append(conns, w)
		connMu.Unlock()
		return w, nil
	}))
	require.NoError(t, err)

	want := burstMessages + 2
	var mu sync.Mutex
	var got []string
	var drops []error
	finished := make(chan struct{})
	var finishOnce sync.Once
	c := newClient[string](t, "ws://"+ln.Addr().String()+"/feed", tether.WithTransport(wst),
		tether.WithoutHeartbeat(), tether.WithAutoConnect(false),
		tether.OnError(func(err error) {
			if errors.Is(err, tether.ErrDelivery) {
				mu.Lock()
				drops = append(drops, err)
				mu.Unlock()
				finishOnce.Do(func() { close(finished) })
			}
		}),
		tether.OnMessage(func(s string) {
			if s == "hello-1" {
				<-release
			}
			mu.Lock()
			got = append(got, s)
			done := len(got) == want
			mu.Unlock()
			if done {
				finishOnce.Do(func() { close(finished) })
			}
		}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	require.NoError(t, c.Connect(ctx))
	require.NoError(t, c.Disconnect(ctx)) // the reader is held in the handler of hello-1
	require.NoError(t, c.Connect(ctx))
	connMu.Lock()
	require.Len(t, conns, 2)
	conns[1].armed.Store(true)
	connMu.Unlock()
	disconnected := make(chan error, 1)
	go func() { disconnected <- c.Disconnect(ctx) }()

	select {
	case <-finished:
	case <-ctx.Done():
		mu.Lock()
		n := len(got)
		mu.Unlock()
		require.FailNow(t, "the messages did not all arrive", "%d of %d", n, want)
	}
	select {
	case err := <-disconnected:
		require.NoError(t, err)
	case <-ctx.Done():
		require.FailNow(t, "Disconnect did not return")
	}
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, drops, "reported not delivered")
	require.Len(t, got, want)
	assert.Equal(t, "hello-1", got[0])
	assert.Equal(t, "hello-2", got[1])
	for i, s := range got[2:] {
		if s != burstPayload(i) {
			assert.Failf(t, "late message out of order", "at %d: %.12q", i, s)
			break
		}
	}
	assert.Zero(t, c.Stats().InboundDrops)
}

// TestUnansweredCloseEndsWith1006: a server that never answers the close
// frame. Disconnect and Close still return nil once the client is Idle
// (Closed), but the transition that ends the connection, which OnClose
// gets, used to carry 1000, the code we sent, as if the handshake had
// taken place. No close frame came back: it now carries 1006, as for a
// connection lost without one, and its cause is the close timeout.
func TestUnansweredCloseEndsWith1006(t *testing.T) {
	for _, mode := range []string{"Disconnect", "Close"} {
		t.Run(mode, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			var srvWG sync.WaitGroup
			accepted := make(chan net.Conn, 1)
			srvWG.Go(func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- c
				if _, err := ws.Upgrade(c); err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, c) // reads the close frame, never answers
			})
			t.Cleanup(func() {
				_ = ln.Close()
				select {
				case c := <-accepted:
					_ = c.Close()
				default:
				}
				srvWG.Wait()
			})
			wst, err := websocket.New(websocket.WithCloseTimeout(100 * time.Millisecond))
			require.NoError(t, err)
			closed := make(chan fsm.Transition, 1)
			c := newClient[string](t, "ws://"+ln.Addr().String()+"/feed", tether.WithTransport(wst),
				tether.WithoutHeartbeat(), tether.WithAutoConnect(false),
				tether.OnClose(func(tr fsm.Transition) { closed <- tr }))
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			require.NoError(t, c.Connect(ctx))
			if mode == "Disconnect" {
				require.NoError(t, c.Disconnect(ctx))
			} else {
				require.NoError(t, c.Close(ctx))
			}
			select {
			case tr := <-closed:
				assert.Equal(t, uint16(transport.StatusAbnormalClosure), tr.CloseCode)
				assert.ErrorIs(t, tr.Cause, transport.ErrTimeout)
			case <-ctx.Done():
				require.FailNow(t, "OnClose was not called")
			}
			assert.ErrorIs(t, c.Err(), transport.ErrTimeout)
		})
	}
}
