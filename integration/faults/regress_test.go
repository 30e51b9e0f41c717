package faults

// Regression tests for two races that lose a message without a report,
// found while writing the fault tests (fixed in the library since). A race
// is forced with a wrapper transport that holds one goroutine back, as a
// busy CPU could; they use the public API only.

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// TestWriteReturningAfterTheDropIsReported is a regression test for a race
// (fixed in 892d14b by Session's sealed account): Outbox.Send and
// Outbox.flush record a write (Session.Wrote) only after Conn.Write has
// returned. If the connection fails in between (the reader sees the reset,
// the actor leaves Open, Outbox.Ended reports the session's unconfirmed
// writes), the message must still be reported, though it was recorded
// after the report: its bytes sat in a socket buffer the peer never read.
//
// The wrapper transport holds the Write of one message (whose bytes it
// swallows, as a kernel buffer of a dying connection would) until the drop
// has been processed, with the give-up that follows it.
func TestWriteReturningAfterTheDropIsReported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	srv := tethertest.NewWSServer()
	defer srv.Close()

	entered, release := make(chan struct{}), make(chan struct{})
	marker := []byte("swallowed")
	tr := wrapTransport(t, func(c transport.Conn) transport.Conn {
		return &holdWriteConn{Conn: c, marker: marker, entered: entered, release: release}
	})
	c, err := tether.New[string](srv.URL, tether.WithAutoConnect(false), tether.WithTransport(tr),
		tether.WithoutHeartbeat(), tether.WithoutReconnect())
	require.NoError(t, err)
	defer func() { _ = c.Close(ctx) }()
	errs := c.Errors(ctx, stream.WithBuffer(1024))
	trs := c.Transitions(ctx, stream.WithBuffer(1024))
	require.NoError(t, c.Connect(ctx))
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)

	type result struct {
		id  uint64
		err error
	}
	sent := make(chan result, 1)
	go func() {
		id, err := c.SendID(ctx, string(marker))
		sent <- result{id, err}
	}()
	<-entered
	sc.Drop() // the server goes away; the message's bytes never reached it
	for tr := range trs.All() {
		if tr.To == fsm.Closed {
			break // the give-up follows the drop's hooks: Outbox.Ended has run
		}
	}
	close(release) // Write returns: its bytes "went out" on a connection already reported on
	res := <-sent
	require.NoError(t, res.err, "Send accepted the message")

	require.NoError(t, c.Close(ctx))
	assert.True(t, reportedIDs(errs)[res.id],
		"message %d was written to a connection that failed, never confirmed, and never reported", res.id)
}

// TestTimedOutCloseReportsUnreadMessages is a regression test for a race
// (fixed in 892d14b: the close goroutine alone reports the handshake):
// when the close handshake times out, transport/websocket ends the
// connection with a *CloseError whose Err is the *TimeoutError, and the
// reader returns it. The reader used to report any *CloseError read while
// Closing as a clean `closed` (Cause nil); when its report reached the
// machine before the Close goroutine's, the outbox took the close as clean
// and dropped the unconfirmed writes without reporting them.
//
// The server stops reading (WSConn.Stall), so neither the messages nor the
// close frame are read; the wrapper makes Close return only after the
// reader has returned and had time to report (the order a busy CPU can
// produce).
func TestTimedOutCloseReportsUnreadMessages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	srv := tethertest.NewWSServer()
	defer srv.Close()

	var client atomic.Pointer[tether.Client[string]]
	tr := wrapTransport(t, func(c transport.Conn) transport.Conn {
		return &closeAfterReaderConn{Conn: c, client: &client, readDone: make(chan struct{})}
	}, websocket.WithCloseTimeout(200*time.Millisecond))
	c, err := tether.New[string](srv.URL, tether.WithAutoConnect(false), tether.WithTransport(tr),
		tether.WithoutHeartbeat(), tether.WithoutReconnect())
	require.NoError(t, err)
	client.Store(c)
	defer func() { _ = c.Close(ctx) }()
	errs := c.Errors(ctx, stream.WithBuffer(1024))
	trs := c.Transitions(ctx, stream.WithBuffer(1024))
	require.NoError(t, c.Connect(ctx))
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	sc.Stall() // nothing more is read: not the messages, not the close frame

	var ids []uint64
	for _, s := range []string{"unread-1", "unread-2", "unread-3"} {
		id, err := c.SendID(ctx, s)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	require.NoError(t, c.Close(ctx))

	var closed fsm.Transition
	for tr := range trs.All() {
		if tr.To == fsm.Closed {
			closed = tr
		}
	}
	assert.ErrorIs(t, closed.Cause, transport.ErrTimeout, "the close handshake timed out: %s", closed)
	reported := reportedIDs(errs)
	for _, id := range ids {
		assert.True(t, reported[id], "message %d was never read by the server and never reported", id)
	}
}

// holdWriteConn swallows the Write of the message containing marker and
// returns nil from it only when release is closed.
type holdWriteConn struct {
	transport.Conn
	marker           []byte
	entered, release chan struct{}
}

func (c *holdWriteConn) Write(ctx context.Context, typ transport.MessageType, p []byte) error {
	if bytes.Contains(p, c.marker) {
		close(c.entered)
		<-c.release
		return nil
	}
	return c.Conn.Write(ctx, typ, p)
}

// closeAfterReaderConn returns from Close only once its reader has
// returned and the client has reached Closed, or half a second later, so
// a report of the reader's reaches the machine before the Close
// goroutine's.
type closeAfterReaderConn struct {
	transport.Conn
	client   *atomic.Pointer[tether.Client[string]]
	readDone chan struct{}
	once     sync.Once
}

func (c *closeAfterReaderConn) Read() (transport.Message, error) {
	m, err := c.Conn.Read()
	if err != nil {
		c.once.Do(func() { close(c.readDone) })
	}
	return m, err
}

func (c *closeAfterReaderConn) Close(code transport.StatusCode, reason string) error {
	err := c.Conn.Close(code, reason)
	if cl := c.client.Load(); cl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		select {
		case <-c.readDone:
		case <-ctx.Done():
		}
		for st := cl.State(); st != fsm.Closed && ctx.Err() == nil; st = cl.State() {
			cl.WaitForStateChange(ctx, st)
		}
	}
	return err
}

// hookTransport dials through a WebSocket transport and wraps each
// connection.
type hookTransport struct {
	inner transport.Transport
	wrap  func(transport.Conn) transport.Conn
}

func wrapTransport(t *testing.T, wrap func(transport.Conn) transport.Conn, opts ...websocket.Option) hookTransport {
	t.Helper()
	inner, err := websocket.New(opts...)
	require.NoError(t, err)
	return hookTransport{inner: inner, wrap: wrap}
}

func (h hookTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := h.inner.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return h.wrap(c), nil
}

func (h hookTransport) Name() string { return h.inner.Name() }

// reportedIDs drains errs (the client is closed, so it ends) and returns
// the IDs of the messages reported by a *tether.DropError or a
// *tether.PossiblyLostError.
func reportedIDs(errs *stream.Subscription[error]) map[uint64]bool {
	ids := make(map[uint64]bool)
	for err := range errs.All() {
		if d, ok := errors.AsType[*tether.DropError](err); ok {
			ids[d.ID] = true
		}
		if pl, ok := errors.AsType[*tether.PossiblyLostError](err); ok {
			for _, id := range pl.IDs {
				ids[id] = true
			}
		}
	}
	return ids
}
