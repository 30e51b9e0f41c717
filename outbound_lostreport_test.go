package tether_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
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
