package adapters_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

func send(t *testing.T, r *rig, s string) uint64 {
	t.Helper()
	id, err := r.out.Send(context.Background(), transport.Text, []byte(s), s)
	require.NoError(t, err)
	return id
}

// recvAll reads n messages on the server's end.
func recvAll(t *testing.T, sc *memory.ServerConn, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	var out []string
	for len(out) < n {
		m, err := sc.Recv(ctx)
		require.NoError(t, err)
		if m.Type.IsData() {
			out = append(out, string(m.Payload))
		}
	}
	return out
}

func TestQueuedSendsGoOutInOrderOnOpen(t *testing.T) {
	r := newRig(t, rigConfig{})
	for _, s := range []string{"a", "b", "c"} {
		send(t, r, s)
	}
	n, bytes := r.out.Len()
	assert.Equal(t, 3, n)
	assert.Equal(t, 3, bytes)
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	sc := r.accept()
	send(t, r, "d") // sent after open, but must not overtake the queue
	assert.Equal(t, []string{"a", "b", "c", "d"}, recvAll(t, sc, 4))
	assert.Empty(t, r.dropped())
}

func TestSendsDuringAnOutageWaitForTheNextConnection(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	r.accept().Drop()
	r.expect(fsm.EventDropped)
	send(t, r, "while down")
	r.waitTimers(1)
	r.clk.StepToNext()
	r.expect(fsm.EventRetry, fsm.EventDialed)
	assert.Equal(t, []string{"while down"}, recvAll(t, r.accept(), 1))
}

func TestOverflowPolicies(t *testing.T) {
	cases := []struct {
		policy   stream.Overflow
		sendErr  error    // of the third send
		dropped  []string // reported, in order
		received []string
	}{
		{stream.DropOldest, nil, []string{"a"}, []string{"b", "c"}},
		{stream.DropNewest, nil, []string{"c"}, []string{"a", "b"}},
		{stream.Fail, adapters.ErrBufferFull, nil, []string{"a", "b"}},
		{stream.Block, context.DeadlineExceeded, nil, []string{"a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.policy.String(), func(t *testing.T) {
			r := newRig(t, rigConfig{outboxOpts: []adapters.OutboxOption{
				adapters.WithBufferLimits(2, 1024), adapters.WithOverflow(tc.policy)}})
			send(t, r, "a")
			send(t, r, "b")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			id, err := r.out.Send(ctx, transport.Text, []byte("c"), "c")
			if tc.sendErr != nil {
				require.ErrorIs(t, err, tc.sendErr)
			} else {
				require.NoError(t, err)
			}
			var dropped []string
			for _, d := range r.dropped() {
				require.ErrorIs(t, d.Reason, adapters.ErrBufferFull)
				dropped = append(dropped, d.Value.(string))
				if d.Value == "c" {
					assert.Equal(t, id, d.ID, "the report carries the message's identity")
				}
			}
			assert.Equal(t, tc.dropped, dropped)

			r.connect()
			r.expect(fsm.EventConnect, fsm.EventDialed)
			assert.Equal(t, tc.received, recvAll(t, r.accept(), len(tc.received)))
		})
	}
}

func TestBlockedSendProceedsWhenRoomFrees(t *testing.T) {
	r := newRig(t, rigConfig{outboxOpts: []adapters.OutboxOption{adapters.WithBufferLimits(1, 1024)}})
	send(t, r, "a")
	done := make(chan error, 1)
	go func() {
		_, err := r.out.Send(context.Background(), transport.Text, []byte("b"), "b")
		done <- err
	}()
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	assert.Equal(t, []string{"a", "b"}, recvAll(t, r.accept(), 2))
	require.NoError(t, <-done)
}

func TestByteBoundAndOversize(t *testing.T) {
	r := newRig(t, rigConfig{outboxOpts: []adapters.OutboxOption{
		adapters.WithBufferLimits(100, 10), adapters.WithOverflow(stream.Fail)}})
	_, err := r.out.Send(context.Background(), transport.Binary, make([]byte, 6), nil)
	require.NoError(t, err)
	_, err = r.out.Send(context.Background(), transport.Binary, make([]byte, 6), nil)
	require.ErrorIs(t, err, adapters.ErrBufferFull, "12 bytes exceed the 10-byte bound")
	_, err = r.out.Send(context.Background(), transport.Binary, make([]byte, 11), nil)
	require.ErrorIs(t, err, adapters.ErrTooLargeToQueue)
	var qe *adapters.QueueSizeError
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, adapters.QueueSizeError{Size: 11, Limit: 10}, *qe)
	n, _ := r.out.Len()
	assert.Equal(t, 1, n, "nothing more was queued")
}

// The byte limit bounds what waits in the buffer, not what may be written:
// while open with nothing queued, a message larger than the buffer goes
// out at once.
func TestOversizeIsWrittenWhileOpenAndIdle(t *testing.T) {
	r := newRig(t, rigConfig{outboxOpts: []adapters.OutboxOption{adapters.WithBufferLimits(100, 10)}})
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	sc := r.accept()
	big := strings.Repeat("x", 1000)
	_, err := r.out.Send(context.Background(), transport.Text, []byte(big), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{big}, recvAll(t, sc, 1))
}

func TestQueuedPayloadIsCopied(t *testing.T) {
	r := newRig(t, rigConfig{})
	buf := []byte("first")
	_, err := r.out.Send(context.Background(), transport.Binary, buf, nil)
	require.NoError(t, err)
	copy(buf, "XXXXX") // the caller reuses its buffer
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	assert.Equal(t, []string{"first"}, recvAll(t, r.accept(), 1))
}

func TestUnconfirmedWritesAreReportedAtADrop(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	sc := r.accept()
	id := send(t, r, "in flight")
	assert.Equal(t, []string{"in flight"}, recvAll(t, sc, 1))
	sc.Drop()
	r.expect(fsm.EventDropped)
	drops := r.dropped()
	require.Len(t, drops, 1)
	assert.Equal(t, id, drops[0].ID)
	assert.Equal(t, "in flight", drops[0].Value)
	assert.ErrorIs(t, drops[0].Reason, adapters.ErrPossiblyLost)
}

func TestPongConfirmsEarlierWrites(t *testing.T) {
	r, sc := openWithHeartbeat(t, pings)
	send(t, r, "confirmed")
	r.clk.Step(pings.Interval) // the ping travels behind the message; its pong confirms it
	r.waitRTTs(1)
	send(t, r, "not confirmed")
	assert.Equal(t, []string{"confirmed", "not confirmed"}, recvAll(t, sc, 2))
	sc.Drop()
	r.expect(fsm.EventDropped)
	drops := r.dropped()
	require.Len(t, drops, 1)
	assert.Equal(t, "not confirmed", drops[0].Value)
}

func TestCleanCloseConfirmsEverything(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	sc := r.accept()
	send(t, r, "last words")
	_, err := r.con.Close(context.Background(), transport.StatusNormalClosure, "bye")
	require.NoError(t, err)
	r.expect(fsm.EventClose, fsm.EventClosed)
	code, reason, ok := sc.CloseReceived()
	require.True(t, ok)
	assert.Equal(t, transport.StatusNormalClosure, code)
	assert.Equal(t, "bye", reason)
	assert.Empty(t, r.dropped())
}

func TestClosingReportsWhatIsStillQueued(t *testing.T) {
	r := newRig(t, rigConfig{})
	id := send(t, r, "never sent")
	_, err := r.con.Close(context.Background(), transport.StatusNormalClosure, "")
	require.NoError(t, err)
	r.expect(fsm.EventClose)
	drops := r.dropped()
	require.Len(t, drops, 1)
	assert.Equal(t, id, drops[0].ID)
	assert.ErrorIs(t, drops[0].Reason, adapters.ErrClosed)
	_, err = r.out.Send(context.Background(), transport.Text, []byte("late"), nil)
	assert.ErrorIs(t, err, adapters.ErrClosed)
}

func TestConcurrentSendersKeepTheirOrder(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	sc := r.accept()
	const senders, each = 8, 50
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				msg := fmt.Sprintf("%d:%d", g, i)
				_, err := r.out.Send(context.Background(), transport.Text, []byte(msg), msg)
				assert.NoError(t, err)
			}
		})
	}
	got := recvAll(t, sc, senders*each)
	wg.Wait()
	next := make([]int, senders)
	for _, m := range got {
		var g, i int
		_, err := fmt.Sscanf(m, "%d:%d", &g, &i)
		require.NoError(t, err)
		require.Equal(t, next[g], i, "sender %d out of order", g)
		next[g]++
	}
}

func TestFlushWaitsForTheQueue(t *testing.T) {
	r := newRig(t, rigConfig{})
	send(t, r, "a")
	send(t, r, "b")
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, r.out.Flush(short), context.DeadlineExceeded, "nothing can leave while disconnected")
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	sc := r.accept()
	require.NoError(t, r.out.Flush(context.Background()))
	n, _ := r.out.Len()
	assert.Zero(t, n)
	assert.Equal(t, []string{"a", "b"}, recvAll(t, sc, 2))
}

// Flush waits for the messages queued before the call, not for an empty
// queue: under sustained sending it returns once those are written, while
// the queue stays full behind them.
func TestFlushReturnsUnderSustainedSending(t *testing.T) {
	const total = 100000 // far more than the outbox (1024) and the memory pipe hold together
	r := newRig(t, rigConfig{})
	full := func() bool { n, _ := r.out.Len(); return n == adapters.DefaultMaxQueued }

	var sent atomic.Int64 // Sends that returned
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		for i := range total {
			if _, err := r.out.Send(context.Background(), transport.Text, []byte(strconv.Itoa(i)), i); err != nil {
				return // the outbox closed at the end of the test
			}
			sent.Add(1)
		}
	}()
	require.Eventually(t, full, deadline, time.Millisecond, "the outbox never filled while disconnected")
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	sc := r.accept() // not read yet: the pipe fills, and the sender fills the outbox again
	// Both the pipe and the outbox full: the sender waits, and what Flush
	// will wait for is fixed.
	require.Eventually(t, func() bool { return full() && sent.Load() >= adapters.DefaultMaxQueued+memory.DefaultQueueLimit },
		deadline, time.Millisecond, "the outbox never filled again")
	before := int(sent.Load()) + 1 // every Send that returned, and the one under way

	flushed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		flushed <- r.out.Flush(ctx)
	}()
	// The server reads what was sent before the Flush and a little more,
	// then stops: the queue never empties, so only a Flush that waits for
	// its own messages returns.
	got := recvAll(t, sc, before+100)
	for i, m := range got {
		require.Equal(t, strconv.Itoa(i), m)
	}
	select {
	case err := <-flushed:
		require.NoError(t, err)
	case <-time.After(deadline):
		require.FailNow(t, "Flush did not return although everything sent before it was read")
	}
	r.shutdown() // ends the sender's Send with ErrClosed; the cleanup's shutdown is then a no-op
	<-sending
}
