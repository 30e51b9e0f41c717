package tether_test

// Regression tests of issue 12: every message accepted by Send ends
// confirmed or reported, at any volume.

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// dropLog collects what OnDrop and the error stream report, by message ID.
type dropLog struct {
	mu      sync.Mutex
	drops   map[uint64][]error // OnDrop, by ID
	lost    []*tether.PossiblyLostError
	ordered []uint64 // OnDrop's IDs in order
}

func newDropLog() *dropLog { return &dropLog{drops: make(map[uint64][]error)} }

func (l *dropLog) onDrop(d tether.Drop) {
	l.mu.Lock()
	l.drops[d.ID] = append(l.drops[d.ID], d.Reason)
	l.ordered = append(l.ordered, d.ID)
	l.mu.Unlock()
}

func (l *dropLog) onError(err error) {
	if pe, ok := errors.AsType[*tether.PossiblyLostError](err); ok {
		l.mu.Lock()
		l.lost = append(l.lost, pe)
		l.mu.Unlock()
	}
}

// openLogged opens a client to srv with no heartbeat and no reconnect,
// its drops and errors going to a dropLog, and returns it once Open with
// the log and the server's end of the connection.
func openLogged(t *testing.T, srv *tethertest.WSServer) (*tether.Client[[]byte], *dropLog, *tethertest.WSConn) {
	t.Helper()
	log := newDropLog()
	c := newClient[[]byte](t, srv.URL, tether.WithoutHeartbeat(), tether.WithoutReconnect(),
		tether.OnDrop(log.onDrop), tether.OnError(log.onError))
	sc := acceptWS(t, srv)
	waitState(t, c, fsm.Open)
	return c, log, sc
}

// TestNoSilentLossPastTheRecord: more Sends than the record of unconfirmed
// writes holds, to a server that never reads, then a drop. Every Send that
// returned nil is reported exactly once (of 10,000 it used to report 4,096
// and forget 5,904); a full record holds Send back instead of forgetting.
func TestNoSilentLossPastTheRecord(t *testing.T) {
	srv, wg := newServer(t)
	c, log, sc := openLogged(t, srv)
	sc.Stall() // reads nothing, answers no ping: nothing is ever confirmed

	const n = adapters.DefaultMaxUnconfirmed + 6_000
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sent := newCounter()
	errs := make([]error, n)
	ids := make([]uint64, n)
	wg.Go(func() {
		for i := range n {
			ids[i], errs[i] = c.SendID(ctx, []byte(numbered(i)))
			sent.add(1)
		}
	})
	require.NoError(t, sent.waitAtLeast(ctx, adapters.DefaultMaxUnconfirmed))
	sc.Drop()
	wg.Wait()
	shutDown(t, c)

	accepted := 0
	log.mu.Lock()
	defer log.mu.Unlock()
	for i := range n {
		reports := log.drops[ids[i]]
		if errs[i] != nil {
			assert.Empty(t, reports, "message %d: Send returned %v, so it is not reported too", i, errs[i])
			continue
		}
		accepted++
		if !assert.Len(t, reports, 1, "message %d (id %d) was accepted: one report, neither none nor two", i, ids[i]) {
			return
		}
	}
	assert.GreaterOrEqual(t, accepted, adapters.DefaultMaxUnconfirmed, "the record was filled")
}

// TestOneLostReportPerConnection: a drop with unconfirmed messages makes
// one *PossiblyLostError listing them all, beside one OnDrop each, and Err
// keeps the connection's failure rather than the report.
func TestOneLostReportPerConnection(t *testing.T) {
	srv, _ := newServer(t)
	c, log, sc := openLogged(t, srv)
	errs := c.Errors(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	const n = 100
	var want []uint64
	bytes := 0
	for i := range n {
		id, err := c.SendID(ctx, []byte(numbered(i)))
		require.NoError(t, err)
		want = append(want, id)
		bytes += len(numbered(i))
	}
	for range n {
		_, err := sc.Recv(ctx) // the server read them all, but confirmed nothing
		require.NoError(t, err)
	}
	sc.Drop()

	var got []error
	for err := range errs.All() {
		got = append(got, err)
	}
	var lost []*tether.PossiblyLostError
	for _, err := range got {
		if pe, ok := errors.AsType[*tether.PossiblyLostError](err); ok {
			lost = append(lost, pe)
		}
		var de *tether.DropError
		assert.False(t, errors.As(err, &de), "no per-message report on the error stream: %v", err)
	}
	require.Len(t, lost, 1, "one report for the connection: %v", got)
	assert.Equal(t, want, lost[0].IDs)
	assert.Equal(t, bytes, lost[0].Bytes)
	assert.ErrorIs(t, lost[0], tether.ErrPossiblyLost)
	var ce *transport.CloseError
	assert.ErrorAs(t, lost[0], &ce, "the report carries the connection's failure")

	waitDone(t, c) // every OnDrop has run
	log.mu.Lock()
	assert.Equal(t, want, log.ordered, "OnDrop still sees each message")
	log.mu.Unlock()

	var te *tether.TransitionError
	require.ErrorAs(t, c.Err(), &te, "Err is the connection's failure, not the report")
	assert.Equal(t, fsm.EventGiveUp, te.Transition.Event, "without reconnect, the drop ends in giving up")
	assert.ErrorAs(t, c.Err(), &ce, "which carries the drop's cause")
	assert.NotErrorIs(t, c.Err(), tether.ErrPossiblyLost)
}

// TestConfirmedValuesAreReleased: without a heartbeat, 64 KiB messages that
// the server has read do not stay in memory (the record of unconfirmed
// writes asks the peer for confirmation when it is half full, and forgets
// what is confirmed). It used to keep every one of them for the life of
// the connection.
func TestConfirmedValuesAreReleased(t *testing.T) {
	srv, wg := newServer(t)
	c := newClient[[]byte](t, srv.URL, tether.WithoutHeartbeat(), tether.WithoutReconnect())
	sc := acceptWS(t, srv)
	waitState(t, c, fsm.Open)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	const n, size = 1024, 64 << 10 // 64 MiB in all
	read := newCounter()
	wg.Go(func() {
		for range n {
			if _, err := sc.Recv(ctx); !assert.NoError(t, err) {
				return
			}
			read.add(1)
		}
	})
	before := heapInUse()
	for i := range n {
		p := make([]byte, size)
		copy(p, strconv.Itoa(i))
		require.NoError(t, c.Send(ctx, p))
	}
	require.NoError(t, read.waitAtLeast(ctx, n))
	grown := int64(heapInUse()) - int64(before)
	assert.Less(t, grown, int64(24<<20), "what the server read is not kept: heap grew %d MiB", grown>>20)
	runtime.KeepAlive(c)
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSendWaitsForConfirmationNotForever: a full record holds a Send back
// only under its ctx, and a Send that gave up is not reported (its error
// is the report).
func TestSendWaitsForConfirmationNotForever(t *testing.T) {
	srv, _ := newServer(t)
	c, log, sc := openLogged(t, srv)
	sc.Stall()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for i := range adapters.DefaultMaxUnconfirmed {
		require.NoError(t, c.Send(ctx, []byte(numbered(i))))
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	id, err := c.SendID(short, []byte("one too many"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, fsm.Open, c.State(), "a Send that gave up leaves the connection alone")
	sc.Drop()
	shutDown(t, c)
	log.mu.Lock()
	defer log.mu.Unlock()
	assert.Empty(t, log.drops[id])
	assert.Len(t, log.drops, adapters.DefaultMaxUnconfirmed)
}

// TestSendDeadlineLeavesTheConnectionAlone: a Send whose ctx ends while its
// large message is being written over a link that does not drain does not
// fail the connection for everyone (it returned an i/o timeout and the
// connection went Open -> Waiting). What the caller learns is exact: nil
// means the message was accepted and arrives whole; a ctx error means it
// never goes out.
func TestSendDeadlineLeavesTheConnectionAlone(t *testing.T) {
	srv, _ := newServer(t)
	log := newDropLog()
	c := newClient[[]byte](t, srv.URL, tether.WithoutReconnect(), tether.OnDrop(log.onDrop))
	sc := acceptWS(t, srv)
	waitState(t, c, fsm.Open)
	sc.Stall() // the server stops reading: the socket buffers fill

	big := make([]byte, 16<<20)
	copy(big, "big")
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	errBig := c.Send(short, big)
	if errBig != nil {
		require.ErrorIs(t, errBig, context.DeadlineExceeded)
	}
	assert.Equal(t, fsm.Open, c.State(), "one caller's deadline does not fail the connection")

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sent := make(chan error, 1)
	go func() { sent <- c.Send(ctx, []byte("after")) }()
	sc.Resume()
	require.NoError(t, <-sent, "the next Send goes through")

	m, err := sc.Recv(ctx)
	require.NoError(t, err)
	if errBig == nil {
		require.Len(t, m.Payload, len(big), "the accepted message arrives whole")
		assert.Equal(t, "big", string(m.Payload[:3]))
		m, err = sc.Recv(ctx)
		require.NoError(t, err)
	}
	assert.Equal(t, "after", string(m.Payload), "and nothing else came before the next message")
	assert.Equal(t, fsm.Open, c.State())
	t.Logf("Send of 16 MiB with a 50 ms deadline returned %v", errBig)
}

// TestOneLostReportWithConcurrentSenders: 16 goroutines sending when the
// server drops the connection. Writes that were under way at the drop are
// reported in the connection's one report, with its cause; they used to
// come one by one, each its own report without a cause. (With a
// confirmation probe each 512 messages, everything written may be
// confirmed by the drop: then nothing is reported, which is right.)
func TestOneLostReportWithConcurrentSenders(t *testing.T) {
	srv, wg := newServer(t)
	c, log, sc := openLogged(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	read := newCounter()
	wg.Go(func() {
		for {
			if _, err := sc.Recv(ctx); err != nil {
				return
			}
			read.add(1)
		}
	})
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				if c.Send(ctx, []byte(numbered(g*1_000_000+i))) != nil {
					return
				}
			}
		})
	}
	require.NoError(t, read.waitAtLeast(ctx, 3000))
	sc.Drop()
	waitState(t, c, fsm.Closed)
	shutDown(t, c)

	log.mu.Lock()
	defer log.mu.Unlock()
	possibly := 0
	for _, reasons := range log.drops {
		if errors.Is(reasons[0], tether.ErrPossiblyLost) {
			possibly++
		}
	}
	if possibly == 0 {
		assert.Empty(t, log.lost, "nothing possibly lost, nothing reported")
		return
	}
	require.Len(t, log.lost, 1, "one report for the one connection (%d possibly lost)", possibly)
	var ce *transport.CloseError
	assert.ErrorAs(t, log.lost[0], &ce, "with the connection's failure")
	assert.Equal(t, possibly, len(log.lost[0].IDs), "the report lists every message OnDrop got as possibly lost")
}

// TestCloseFromOnDrop: Close called inside OnDrop returns promptly, for a
// message the overflow policy dropped (reported from inside Send) and for
// messages possibly lost at a drop (reported from the machine's hooks). It
// used to wait for itself until its ctx ended.
func TestCloseFromOnDrop(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, srv *tethertest.WSServer, c *tether.Client[[]byte])
	}{
		{"buffer full", func(t *testing.T, _ *tethertest.WSServer, c *tether.Client[[]byte]) {
			require.NoError(t, c.Send(context.Background(), []byte("queued")))
			require.NoError(t, c.Send(context.Background(), []byte("dropped"))) // DropNewest
		}},
		{"possibly lost", func(t *testing.T, srv *tethertest.WSServer, c *tether.Client[[]byte]) {
			require.NoError(t, c.Connect(context.Background()))
			sc := acceptWS(t, srv)
			sc.Stall()
			for i := range 10 {
				require.NoError(t, c.Send(context.Background(), []byte(numbered(i))))
			}
			sc.Drop()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newServer(t)
			closed := make(chan error, 16)
			var c *tether.Client[[]byte]
			c = newClient[[]byte](t, srv.URL, tether.WithAutoConnect(false), tether.WithoutReconnect(),
				tether.WithoutHeartbeat(), tether.WithSendBuffer(1, 1<<20, stream.DropNewest),
				tether.OnDrop(func(tether.Drop) {
					ctx, cancel := context.WithTimeout(context.Background(), deadline)
					defer cancel()
					closed <- c.Close(ctx)
				}))
			tc.run(t, srv, c)
			select {
			case err := <-closed:
				require.NoError(t, err, "Close from OnDrop returned")
			case <-time.After(deadline):
				require.FailNow(t, "OnDrop was not called")
			}
			select {
			case <-c.Done():
			case <-time.After(deadline):
				require.FailNow(t, "Done did not close")
			}
		})
	}
}
