package websocket

import (
	"bytes"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// poll is how often a condition on ReadProgress is checked while waiting
// for another goroutine to reach it.
const poll = time.Millisecond

// readOnce runs one Read in a goroutine and delivers its result.
func readOnce(c transport.Conn) <-chan result {
	out := make(chan result, 1)
	go func() {
		m, err := transport.ReadOwned(c)
		out <- result{m, err}
	}()
	return out
}

// awaitProgress waits until ReadProgress reports received bytes and a Read
// waiting for more.
func awaitProgress(t *testing.T, c transport.ProgressReporter, received uint64) {
	t.Helper()
	require.Eventually(t, func() bool {
		r, waiting := c.ReadProgress()
		return r == received && waiting
	}, wait, poll, "want %d bytes received and a Read waiting", received)
}

// TestReadProgressLargeFrame: the bytes of a large frame count as they
// arrive, while Read still waits for the rest of it.
func TestReadProgressLargeFrame(t *testing.T) {
	c, nc := newChunkClient(t, nil, nil)
	payload := bytes.Repeat([]byte{'z'}, 64<<10)
	f := encode(ws.OpBinary, true, payload)

	received, waiting := c.ReadProgress()
	assert.Zero(t, received)
	assert.False(t, waiting, "no Read yet")

	got := readOnce(c)
	const piece = 10_000
	sent := 0
	for sent+piece < len(f) {
		nc.feed(f[sent : sent+piece])
		sent += piece
		awaitProgress(t, c, uint64(sent))
		select {
		case r := <-got:
			require.FailNow(t, "Read returned before the frame was whole", "%v", r.err)
		default:
		}
	}
	nc.feed(f[sent:])
	r := await(t, got, "Read did not return the frame")
	require.NoError(t, r.err)
	require.Equal(t, payload, r.m.Payload)

	received, waiting = c.ReadProgress()
	assert.Equal(t, uint64(len(f)), received)
	assert.False(t, waiting, "the caller is not in Read")
}

// TestReadProgressOverTCP: the same over a socket, where Read waits for
// readability before it reads.
func TestReadProgressOverTCP(t *testing.T) {
	tc, p, _ := connectPair(t)
	c := tc.(*conn)
	payload := bytes.Repeat([]byte{'t'}, 100_000)
	f := encode(ws.OpBinary, true, payload)

	received, waiting := c.ReadProgress()
	assert.Zero(t, received, "the handshake left nothing behind")
	assert.False(t, waiting)

	got := readOnce(c)
	awaitProgress(t, c, 0)
	sent := 0
	for _, piece := range []int{3, 40_000, 30_000} { // ends in the header, then in the payload
		_, err := p.conn.Write(f[sent : sent+piece])
		require.NoError(t, err)
		sent += piece
		awaitProgress(t, c, uint64(sent))
	}
	_, err := p.conn.Write(f[sent:])
	require.NoError(t, err)
	r := await(t, got, "Read did not return the frame")
	require.NoError(t, r.err)
	require.Equal(t, payload, r.m.Payload)

	received, waiting = c.ReadProgress()
	assert.Equal(t, uint64(len(f)), received)
	assert.False(t, waiting)
	require.NoError(t, c.Close(transport.StatusAbnormalClosure, "")) // the peer answers no close
}

// TestReadProgressCloseReadsAlone: Close that reads the peer's answer by
// itself shows as waiting, and Buffered says false meanwhile, though a
// message was buffered before the Close.
func TestReadProgressCloseReadsAlone(t *testing.T) {
	c, nc := newChunkClient(t, func(o *options) { o.closeTimeout = time.Minute }, nil)
	msgs := cat(encode(ws.OpText, true, []byte("one")), encode(ws.OpText, true, []byte("two")))
	nc.feed(msgs)
	readNext(t, c, transport.Text, []byte("one"))
	require.True(t, c.Buffered())

	closed := make(chan error, 1)
	go func() { closed <- c.Close(transport.StatusNormalClosure, "") }()
	awaitProgress(t, c, uint64(len(msgs)))
	assert.False(t, c.Buffered(), "Close is reading: a Read would wait")

	answer := encode(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	nc.feed(answer)
	require.NoError(t, await(t, closed, "Close did not return"))
	received, waiting := c.ReadProgress()
	assert.Equal(t, uint64(len(msgs)+len(answer)), received)
	assert.False(t, waiting)
	assert.True(t, c.Buffered(), "the connection has ended")
}

// TestBufferedLetsCloseRead: when Close finds the read lock held by
// Buffered, rather than a Read, it is told when the lock is free and reads
// the answer by itself, instead of waiting out its timeout for a Read that
// may never come.
func TestBufferedLetsCloseRead(t *testing.T) {
	c, nc := newChunkClient(t, func(o *options) { o.closeTimeout = time.Minute }, nil)
	c.readMu.Lock() // as Buffered does, for a moment
	closed := make(chan error, 1)
	go func() { closed <- c.Close(transport.StatusNormalClosure, "") }()
	require.Eventually(t, func() bool { return len(nc.written()) > 0 }, wait, poll, "no close frame went out")
	c.unlockRead() // as Buffered does

	awaitProgress(t, c, 0) // Close reads
	nc.feed(encode(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
	require.NoError(t, await(t, closed, "Close did not return"))
}
