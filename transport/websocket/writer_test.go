package websocket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// holdFirstWrite starts a Write of "first" on its own goroutine and waits
// until it is held at the gate: from then on that goroutine holds the
// flusher role. The returned channel delivers its result.
func holdFirstWrite(t *testing.T, c *conn, g *gatedConn) <-chan error {
	t.Helper()
	g.hold()
	first := make(chan error, 1)
	go func() { first <- c.Write(context.Background(), transport.Text, []byte("first")) }()
	g.awaitEntered(t)
	return first
}

// freeInPending returns how many bytes pending can still take.
func freeInPending(c *conn) int {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return cap(c.w.pending) - len(c.w.pending)
}

// awaitIdleWriter waits until no flushing goroutine is left.
func awaitIdleWriter(t *testing.T, c *conn) {
	t.Helper()
	idle := make(chan struct{})
	go func() { c.wg.Wait(); close(idle) }()
	await(t, idle, "the flushing goroutine did not end")
}

func TestWritesQueueBehindAWriteInProgress(t *testing.T) {
	const writers, perWriter = 8, 10
	c, g, p := connectGated(t)
	first := holdFirstWrite(t, c, g)

	// While the network write is held, every other Write queues its frame
	// and returns without touching the network.
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				assert.NoError(t, c.Write(context.Background(), transport.Binary, fmt.Appendf(nil, "w%d-%d", w, i)))
			}
		})
	}
	queued := make(chan struct{})
	go func() { wg.Wait(); close(queued) }()
	await(t, queued, "queued writes did not return while the network write was held")
	assert.Equal(t, int64(1), g.writes.Load())
	assert.Empty(t, first, "a lone write on a quiet connection returns after its network write")

	g.open()
	require.NoError(t, await(t, first, "the held write did not return"))
	f, err := p.read()
	require.NoError(t, err)
	assert.Equal(t, "first", string(f.payload))
	next := make([]int, writers)
	for range writers * perWriter {
		f, err := p.read()
		require.NoError(t, err)
		require.True(t, f.masked)
		var w, i int
		_, err = fmt.Sscanf(string(f.payload), "w%d-%d", &w, &i)
		require.NoError(t, err, "corrupted frame %q", f.payload)
		assert.Equal(t, next[w], i, "writer %d's frames arrive in order", w)
		next[w] = i + 1
	}
	// The queued frames left in one write, by a goroutine that then ended.
	awaitIdleWriter(t, c)
	assert.Equal(t, int64(2), g.writes.Load(), "one write for the held frame, one for the batch")
	go echo(p)
}

// setLastWrite makes the writer believe its last network write ended at
// end, and that writes take took.
func setLastWrite(c *conn, end time.Time, took time.Duration) {
	c.w.mu.Lock()
	c.w.lastEnd, c.w.tookAvg = end, took
	c.w.mu.Unlock()
}

func TestBackToBackWritesQueueForAFlushingGoroutine(t *testing.T) {
	c, g, p := connectGated(t)
	// As if the caller came back right after a write that took long: it
	// is sending back to back, so its frame is queued for a flushing
	// goroutine and Write returns before the network write.
	setLastWrite(c, time.Now(), time.Hour)
	g.hold()
	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("one")))
	g.awaitEntered(t) // the flushing goroutine, held at the network
	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("two")))
	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("three")))
	g.open()
	for _, want := range []string{"one", "two", "three"} {
		f, err := p.read()
		require.NoError(t, err)
		assert.Equal(t, want, string(f.payload))
	}
	awaitIdleWriter(t, c)
	assert.Equal(t, int64(2), g.writes.Load(), "the frames queued meanwhile share one write")

	// After a pause longer than the last write took, a Write writes its
	// own frame before it returns again.
	setLastWrite(c, time.Now().Add(-time.Hour), time.Millisecond)
	first := holdFirstWrite(t, c, g)
	assert.Empty(t, first)
	g.open()
	require.NoError(t, await(t, first, "the held write did not return"))
	f, err := p.read()
	require.NoError(t, err)
	assert.Equal(t, "first", string(f.payload))
	go echo(p)
}

func TestWriteWaitsForRoomHonouringCtx(t *testing.T) {
	c, g, p := connectGated(t)
	first := holdFirstWrite(t, c, g)
	// Fill pending to the last byte.
	big := bytes.Repeat([]byte{'q'}, freeInPending(c)/2-8)
	require.NoError(t, c.Write(context.Background(), transport.Binary, big))
	require.NoError(t, c.Write(context.Background(), transport.Binary, big))
	require.Less(t, freeInPending(c), frameSize(len("late")))

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Write(ctx, transport.Binary, []byte("late"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, transport.ErrClosed)

	g.open()
	require.NoError(t, await(t, first, "the held write did not return"))
	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("after")))
	for _, want := range []string{"first", string(big), string(big), "after"} {
		f, err := p.read()
		require.NoError(t, err)
		assert.Equal(t, want, string(f.payload), "the write that gave up queued nothing")
	}
	go echo(p)
}

func TestPongsQueueBehindABusyWriter(t *testing.T) {
	c, g, p := connectGated(t)
	reads := readLoop(c)
	first := holdFirstWrite(t, c, g)

	// The reader answers a ping without waiting for the writer.
	require.NoError(t, p.write(ws.OpPing, true, []byte("a")))
	r := next(t, reads)
	require.NoError(t, r.err)
	assert.Equal(t, transport.Ping, r.m.Type)

	// Fill pending to the last byte; the next pongs wait in the slot, and
	// only the latest is sent.
	fill := bytes.Repeat([]byte{'f'}, freeInPending(c)-8)
	require.NoError(t, c.Write(context.Background(), transport.Binary, fill))
	require.Zero(t, freeInPending(c))
	for _, ping := range []string{"b", "c"} {
		require.NoError(t, p.write(ws.OpPing, true, []byte(ping)))
		r := next(t, reads)
		require.NoError(t, r.err)
		assert.Equal(t, ping, string(r.m.Payload))
	}

	g.open()
	require.NoError(t, await(t, first, "the held write did not return"))
	for _, want := range []struct {
		op      ws.OpCode
		payload string
	}{{ws.OpText, "first"}, {ws.OpPong, "a"}, {ws.OpBinary, string(fill)}, {ws.OpPong, "c"}} {
		f, err := p.read()
		require.NoError(t, err)
		assert.Equal(t, want.op, f.op)
		assert.Equal(t, want.payload, string(f.payload))
	}
	go echo(p)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	for r := range reads {
		if r.err != nil {
			break
		}
	}
}

func TestLargeFrameWaitsForItsTurn(t *testing.T) {
	c, g, p := connectGated(t)
	first := holdFirstWrite(t, c, g)
	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("small")))

	// A frame larger than half the buffer is streamed by the holder of the
	// role: it waits for it, and can give up.
	large := []byte(strings.Repeat("0123456789", c.w.half/10+100))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, c.Write(ctx, transport.Binary, large), context.DeadlineExceeded)

	done := make(chan error, 1)
	go func() { done <- c.Write(context.Background(), transport.Binary, large) }()
	g.open()
	require.NoError(t, await(t, first, "the held write did not return"))
	require.NoError(t, await(t, done, "the large write did not return"))
	for _, want := range []string{"first", "small", string(large)} {
		f, err := p.read()
		require.NoError(t, err)
		assert.Equal(t, want, string(f.payload))
	}
	go echo(p)
}

func TestCloseGivesUpWaitingForTheWriter(t *testing.T) {
	c, g, p := connectGated(t)
	first := holdFirstWrite(t, c, g) // a write stuck on a peer that does not read
	c.opts = &options{closeTimeout: 100 * time.Millisecond}
	err := c.Close(transport.StatusNormalClosure, "")
	require.ErrorIs(t, err, transport.ErrTimeout)
	waitDone(t, c)
	assert.Error(t, await(t, first, "the stuck write was not released by the end"))
	assert.ErrorIs(t, c.Write(context.Background(), transport.Text, []byte("x")), transport.ErrClosed)
	p.conn.Close()
}

func TestConcurrentWritersShareWriteCalls(t *testing.T) {
	const writers, perWriter = 8, 250
	c, g, p := connectGated(t)
	g.yield.Store(true)
	payload := bytes.Repeat([]byte{'z'}, 64)

	received := make(chan []int, 1)
	go func() {
		counts := make([]int, writers)
		for range writers * perWriter {
			f, err := p.readData()
			if !assert.NoError(t, err) {
				break
			}
			var w, i int
			_, err = fmt.Sscanf(string(f.payload), "w%d-%d:", &w, &i)
			if !assert.NoError(t, err, "corrupted frame %q", f.payload) || !assert.Less(t, w, writers) {
				break
			}
			assert.Equal(t, counts[w], i, "writer %d's frames arrive in order", w)
			assert.Len(t, f.payload, 64)
			counts[w]++
		}
		received <- counts
		echo(p)
	}()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			msg := bytes.Clone(payload)
			for i := range perWriter {
				copy(msg, fmt.Sprintf("w%d-%d:", w, i))
				if !assert.NoError(t, c.Write(context.Background(), transport.Binary, msg)) {
					return
				}
			}
		})
	}
	wg.Wait()
	counts := await(t, received, "the server did not receive every frame")
	for w := range writers {
		assert.Equal(t, perWriter, counts[w], "writer %d", w)
	}
	awaitIdleWriter(t, c)
	writes := g.writes.Load()
	t.Logf("%d network writes for %d messages", writes, writers*perWriter)
	assert.Less(t, writes, int64(writers*perWriter), "concurrent writes share network writes")
}

func TestWriteAllocatesNothing(t *testing.T) {
	o := defaultOptions()
	require.NoError(t, o.resolve())
	c := newConn(&discardConn{}, nil, &o, "")
	payload := bytes.Repeat([]byte{'y'}, 64)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if err := c.Write(ctx, transport.Binary, payload); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
	large := bytes.Repeat([]byte{'y'}, 10_000)
	allocs = testing.AllocsPerRun(20, func() {
		if err := c.Write(ctx, transport.Binary, large); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
}

// failingConn fails every write, as a reset connection does, after
// writing the first partial bytes of it.
type failingConn struct {
	memConn
	partial int
}

var errBoom = errors.New("connection reset by test")

func (f *failingConn) Write(p []byte) (int, error) { return min(f.partial, len(p)), errBoom }

// TestWriteFailureEndsTheConnection: a write that fails ends the
// connection. When bytes of the message may have gone out the error is the
// network's (the message may or may not have arrived); when not a byte of
// the batch holding it went out it also matches ErrClosed (the message was
// not sent: a client queues it for the next connection). It used to be
// the network's error alone in both cases, so a message the connection
// never took was reported as a write failure and not sent again.
func TestWriteFailureEndsTheConnection(t *testing.T) {
	for _, partial := range []int{0, 3} {
		t.Run(strconv.Itoa(partial)+" bytes written", func(t *testing.T) {
			testWriteFailure(t, partial)
		})
	}
}

func testWriteFailure(t *testing.T, partial int) {
	o := defaultOptions()
	require.NoError(t, o.resolve())
	c := newConn(&failingConn{memConn: memConn{in: bytes.NewReader(nil)}, partial: partial}, nil, &o, "")
	err := c.Write(context.Background(), transport.Text, []byte("lost"))
	require.ErrorIs(t, err, errBoom)
	if partial == 0 {
		assert.ErrorIs(t, err, transport.ErrClosed, "nothing went out: the message was not sent")
	} else {
		assert.NotErrorIs(t, err, transport.ErrClosed, "bytes went out: not ErrClosed")
	}
	waitDone(t, c)
	ce := closeErr(t, c.Err())
	assert.Equal(t, transport.StatusAbnormalClosure, ce.Code)
	assert.ErrorIs(t, ce, errBoom)
	// Now nothing more is written.
	assert.ErrorIs(t, c.Write(context.Background(), transport.Text, []byte("x")), transport.ErrClosed)
	_, err = c.Read()
	assert.Equal(t, c.Err(), err)
	assert.NoError(t, c.Close(1000, ""))
}

// TestEveryFrameHasItsOwnMask: the writer draws masking keys two at a time
// (one 64-bit draw for two frames); each frame must still carry a key of
// its own, as RFC 6455 section 5.3 requires: no key repeats across a
// stream of frames, pings and data alike.
func TestEveryFrameHasItsOwnMask(t *testing.T) {
	const frames = 2000
	c, p, _ := connectPair(t)
	go func() {
		for i := range frames {
			var err error
			if i%7 == 0 {
				err = c.Ping(context.Background(), []byte("p"))
			} else {
				err = c.Write(context.Background(), transport.Binary, []byte{byte(i)})
			}
			assert.NoError(t, err)
		}
	}()
	seen := make(map[[4]byte]int, frames)
	for i := range frames {
		f, err := p.read()
		require.NoError(t, err)
		require.True(t, f.masked)
		if j, dup := seen[f.mask]; dup {
			t.Fatalf("frames %d and %d share the masking key %x", j, i, f.mask)
		}
		seen[f.mask] = i
	}
	go echo(p) // answers the close at cleanup
}

// TestPongOwedWhilePendingIsFull: a ping that arrives while the queue has
// no room for its pong is answered once the batch in progress is written:
// the reader keeps the pong aside (only the latest ping's), never waits,
// and the pong follows the frames queued before it.
func TestPongOwedWhilePendingIsFull(t *testing.T) {
	c, g, p := connectGated(t)
	first := holdFirstWrite(t, c, g)
	frames := 0
	for freeInPending(c) >= frameSize(1) { // no pong with a payload fits after this
		require.NoError(t, c.Write(context.Background(), transport.Binary, []byte{byte(frames)}))
		frames++
	}
	results := readLoop(c)
	require.NoError(t, p.write(ws.OpPing, true, []byte("one")))
	require.NoError(t, p.write(ws.OpPing, true, []byte("two")))
	for _, want := range []string{"one", "two"} {
		r := <-results
		require.NoError(t, r.err)
		require.Equal(t, transport.Ping, r.m.Type)
		require.Equal(t, want, string(r.m.Payload), "the reader returns each ping without waiting for its pong")
	}
	g.open()
	require.NoError(t, await(t, first, "the held write did not return"))
	f, err := p.read()
	require.NoError(t, err)
	require.Equal(t, "first", string(f.payload))
	for i := range frames {
		f, err := p.read()
		require.NoError(t, err)
		require.Equal(t, ws.OpBinary, f.op, "frame %d", i)
		require.Equal(t, []byte{byte(i)}, f.payload, "frame %d", i)
	}
	f, err = p.read()
	require.NoError(t, err)
	assert.Equal(t, ws.OpPong, f.op, "the owed pong follows what was queued before it")
	assert.Equal(t, "two", string(f.payload), "only the latest ping is answered")
	go echo(p)
}
