package tether_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// TestLostReportSurvivesAFullCallbackQueue: the connection's one report of
// what it left unconfirmed went to OnError through the bounded callback
// queue, and was dropped (only counted, in a *CallbackDropError) when the
// queue was full, as it is behind a slow OnError facing a flood of
// undecodable messages. It is never dropped now, like OnDrop.
func TestLostReportSurvivesAFullCallbackQueue(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	letGo := sync.OnceFunc(func() { close(release) })
	defer letGo()
	var (
		mu      sync.Mutex
		lost    []*tether.PossiblyLostError
		dropped uint64
	)
	c := client[Reading](e, tether.WithoutReconnect(), tether.OnError(func(err error) {
		<-release // a slow OnError: the queue fills behind it
		mu.Lock()
		defer mu.Unlock()
		if pe, ok := errors.AsType[*tether.PossiblyLostError](err); ok {
			lost = append(lost, pe)
		}
		if d, ok := errors.AsType[*tether.CallbackDropError](err); ok {
			dropped += d.Count
		}
	}))
	sc := e.accept()
	waitState(t, c, fsm.Open)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc.Stall() // nothing is confirmed from now on
	for i := range 10 {
		require.NoError(t, c.Send(ctx, []byte(numbered(i))))
	}
	for range 1100 { // undecodable: more reports than the queue holds
		require.NoError(t, sc.Send(ctx, transport.Text, []byte("not json")))
	}
	for c.Stats().MessagesIn < 1100 { // all read, their reports queued or dropped
		require.NoError(t, ctx.Err(), "the client read %d", c.Stats().MessagesIn)
		runtime.Gosched()
	}
	sc.Drop() // the report comes behind a full queue
	waitState(t, c, fsm.Closed)
	require.Equal(t, uint64(10), c.Stats().PossiblyLost)
	letGo()
	waitDone(t, c)
	mu.Lock()
	defer mu.Unlock()
	require.Positive(t, dropped, "the queue was full")
	require.Len(t, lost, 1, "the one report reached OnError")
	require.Len(t, lost[0].IDs, 10)
}

// TestOnDropIsNeverDroppedForASlowCallback: OnDrop's documentation says it
// is never dropped for a slow callback. With OnDrop held on its first call
// while 5,000 more drops come (about five times the callback queue's
// bound), every drop still reaches it, once; what the queue could not hold
// is the OnError calls beside them, which are reported dropped.
func TestOnDropIsNeverDroppedForASlowCallback(t *testing.T) {
	const n = 5000
	release := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	seen := map[uint64]int{}
	var callbackDrops atomic.Uint64
	c, err := tether.New[string]("ws://127.0.0.1:1/never", tether.WithAutoConnect(false),
		tether.WithSendBuffer(1, 1<<20, stream.DropNewest),
		tether.OnDrop(func(d tether.Drop) {
			once.Do(func() { <-release })
			mu.Lock()
			seen[d.ID]++
			mu.Unlock()
		}),
		tether.OnError(func(err error) {
			if cd, ok := errors.AsType[*tether.CallbackDropError](err); ok {
				callbackDrops.Add(cd.Count)
			}
		}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for i := range n + 1 { // the first waits in the buffer, the rest are dropped
		require.NoError(t, c.SendText(ctx, numbered(i)))
	}
	close(release)
	require.NoError(t, c.Close(ctx))
	waitDone(t, c)
	st := c.Stats()
	require.EqualValues(t, n, st.DropsBufferFull)
	require.EqualValues(t, 1, st.DropsClosed, "the one queued at Close")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, n+1, len(seen), "OnDrop heard of every drop")
	for id, k := range seen {
		assert.Equal(t, 1, k, "message %d reported %d times", id, k)
	}
	assert.Positive(t, callbackDrops.Load(), "the OnError calls the full queue could not hold are reported")
}
