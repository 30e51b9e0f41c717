package fsm_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/tethertest"
)

func fire(t *testing.T, m *fsm.Machine, in fsm.Input) fsm.Transition {
	t.Helper()
	tr, err := m.Fire(context.Background(), in)
	require.NoError(t, err)
	return tr
}

func TestTransitionCarriesFacts(t *testing.T) {
	clk := tethertest.NewFakeClock(time.Time{})
	m := fsm.New(fsm.WithClock(clk))
	defer m.Close()

	start := clk.Now()
	tr := fire(t, m, fsm.Input{Event: fsm.EventConnect, Transport: "websocket"})
	assert.Equal(t, fsm.Transition{Seq: 1, From: fsm.Idle, To: fsm.Connecting, Event: fsm.EventConnect,
		Transport: "websocket", Epoch: 1, Time: start}, tr)

	clk.Step(3 * time.Second)
	tr = fire(t, m, fsm.Input{Event: fsm.EventDialed})
	assert.Equal(t, start.Add(3*time.Second), tr.Time, "time comes from the clock")
	assert.Equal(t, "websocket", tr.Transport, "transport is sticky")

	cause := io.ErrUnexpectedEOF
	tr = fire(t, m, fsm.Input{Event: fsm.EventDropped, Cause: cause, CloseCode: 1006})
	assert.ErrorIs(t, tr.Cause, cause)
	assert.EqualValues(t, 1006, tr.CloseCode)

	tr = fire(t, m, fsm.Input{Event: fsm.EventRetry, Attempt: 1})
	assert.Equal(t, 1, tr.Attempt)
	assert.EqualValues(t, 2, tr.Epoch, "every entry to Connecting starts a new epoch")
	tr = fire(t, m, fsm.Input{Event: fsm.EventDialed})
	assert.Equal(t, 1, tr.Attempt, "attempt is sticky")
	assert.Zero(t, tr.CloseCode, "close code is not sticky")
	assert.Equal(t, m.Last(), tr)
}

func TestStaleEpochChangesNothing(t *testing.T) {
	m := fsm.New()
	defer m.Close()
	first := fire(t, m, fsm.Input{Event: fsm.EventConnect})
	fire(t, m, fsm.Input{Event: fsm.EventDialed})
	fire(t, m, fsm.Input{Event: fsm.EventDropped, Epoch: first.Epoch})
	second := fire(t, m, fsm.Input{Event: fsm.EventRetry, Attempt: 1})
	fire(t, m, fsm.Input{Event: fsm.EventDialed})

	// The first connection's reader reports late: it must not drop the second.
	_, err := m.Fire(context.Background(), fsm.Input{Event: fsm.EventDropped, Epoch: first.Epoch})
	require.ErrorIs(t, err, fsm.ErrStale)
	assert.Equal(t, fsm.Open, m.State())
	fire(t, m, fsm.Input{Event: fsm.EventDropped, Epoch: second.Epoch})
	assert.Equal(t, fsm.Waiting, m.State())
}

func TestHookFollowUpIsQueued(t *testing.T) {
	m := fsm.New()
	defer m.Close()
	var seen []fsm.Transition
	var mu sync.Mutex
	m.AddHook(func(tr fsm.Transition) (fsm.Input, bool) {
		mu.Lock()
		seen = append(seen, tr)
		mu.Unlock()
		// While the hook runs, the state already reads the transition's To.
		assert.Equal(t, tr.To, m.State())
		if tr.To == fsm.Waiting {
			return fsm.Input{Event: fsm.EventRetry, Attempt: tr.Attempt + 1}, true
		}
		return fsm.Input{}, false
	})

	fire(t, m, fsm.Input{Event: fsm.EventConnect})
	tr := fire(t, m, fsm.Input{Event: fsm.EventDialFailed})
	assert.Equal(t, fsm.Waiting, tr.To, "Fire returns the transition it made, not the follow-up's")
	// The follow-up runs before the next input, so the next Fire sees Connecting.
	tr = fire(t, m, fsm.Input{Event: fsm.EventDialed})
	assert.Equal(t, fsm.Connecting, tr.From)
	assert.Equal(t, 1, tr.Attempt)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 4)
	assert.Equal(t, []fsm.Event{fsm.EventConnect, fsm.EventDialFailed, fsm.EventRetry, fsm.EventDialed},
		[]fsm.Event{seen[0].Event, seen[1].Event, seen[2].Event, seen[3].Event})
}

func TestRejectedFollowUpIsReported(t *testing.T) {
	rejected := make(chan error, 1)
	m := fsm.New(fsm.WithRejected(func(_ fsm.Input, err error) { rejected <- err }))
	defer m.Close()
	m.AddHook(func(tr fsm.Transition) (fsm.Input, bool) {
		return fsm.Input{Event: fsm.EventGiveUp}, tr.To == fsm.Connecting // forbidden in Connecting
	})
	fire(t, m, fsm.Input{Event: fsm.EventConnect})
	select {
	case err := <-rejected:
		assert.ErrorIs(t, err, fsm.ErrForbidden)
	case <-time.After(10 * time.Second):
		require.Fail(t, "the rejected follow-up was not reported")
	}
	assert.Equal(t, fsm.Connecting, m.State())
}

func TestRemoveHook(t *testing.T) {
	m := fsm.New()
	defer m.Close()
	calls := 0
	var remove func()
	remove = m.AddHook(func(fsm.Transition) (fsm.Input, bool) {
		calls++
		remove() // detaching from inside a hook is allowed
		return fsm.Input{}, false
	})
	fire(t, m, fsm.Input{Event: fsm.EventConnect})
	fire(t, m, fsm.Input{Event: fsm.EventDialed})
	assert.Equal(t, 1, calls)
	remove()
}

func TestWaitForStateChange(t *testing.T) {
	m := fsm.New()
	defer m.Close()

	assert.True(t, m.WaitForStateChange(context.Background(), fsm.Open), "returns at once when already different")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.False(t, m.WaitForStateChange(ctx, fsm.Idle), "a done ctx ends the wait")

	changed := make(chan bool)
	go func() { changed <- m.WaitForStateChange(context.Background(), fsm.Idle) }()
	fire(t, m, fsm.Input{Event: fsm.EventConnect})
	assert.True(t, <-changed)
}

func TestCloseIsIdempotentAndRefusesInputs(t *testing.T) {
	m := fsm.New()
	fire(t, m, fsm.Input{Event: fsm.EventConnect})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { assert.NoError(t, m.Close()) })
	}
	wg.Wait()
	require.NoError(t, m.Close())
	<-m.Done()

	_, err := m.Fire(context.Background(), fsm.Input{Event: fsm.EventDialed})
	require.ErrorIs(t, err, fsm.ErrMachineClosed)
	assert.Equal(t, fsm.Connecting, m.State(), "the snapshot survives Close")

	// A subscription made after Close gets the last transition and ends.
	var got []fsm.Transition
	for tr := range m.Transitions(context.Background()) {
		got = append(got, tr)
	}
	require.Len(t, got, 1)
	assert.Equal(t, fsm.Connecting, got[0].To)
}

func TestFireHonoursCtxWhileWaiting(t *testing.T) {
	m := fsm.New()
	defer m.Close()
	block, entered := make(chan struct{}), make(chan struct{})
	m.AddHook(func(tr fsm.Transition) (fsm.Input, bool) {
		if tr.To == fsm.Connecting {
			close(entered)
			<-block // a misbehaving hook keeps the actor busy
		}
		return fsm.Input{}, false
	})
	go func() { _, _ = m.Fire(context.Background(), fsm.Input{Event: fsm.EventConnect}) }()
	<-entered // (WaitForStateChange would wait for the hook to finish)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.Fire(ctx, fsm.Input{Event: fsm.EventDialed})
	require.ErrorIs(t, err, context.Canceled)
	close(block)
	// The FSM is not wedged by the cancelled ctx: the next event goes through.
	tr := fire(t, m, fsm.Input{Event: fsm.EventDialed})
	assert.Equal(t, fsm.Open, tr.To)
}

func TestSubscribersSeeCurrentStateFirstThenEverything(t *testing.T) {
	m := fsm.New()
	first := m.Subscribe(context.Background())
	fire(t, m, fsm.Input{Event: fsm.EventConnect})
	late := m.Subscribe(context.Background())
	fire(t, m, fsm.Input{Event: fsm.EventDialed})
	fire(t, m, fsm.Input{Event: fsm.EventClose})
	fire(t, m, fsm.Input{Event: fsm.EventClosed})
	require.NoError(t, m.Close())

	var a, b []fsm.Transition
	for tr := range first.C() {
		a = append(a, tr)
	}
	for tr := range late.C() {
		b = append(b, tr)
	}
	require.Len(t, a, 5)
	assert.Equal(t, uint64(0), a[0].Seq, "the first subscriber starts from the Idle snapshot")
	assert.Equal(t, fsm.Idle, a[0].To)
	require.Len(t, b, 4)
	assert.Equal(t, fsm.Connecting, b[0].To, "a late subscriber starts from the current state")
	assert.Equal(t, a[1:], b, "both see the same transitions in the same order")
	assert.Equal(t, fsm.Closed, b[len(b)-1].To)
}

func TestUnsubscribeFrees(t *testing.T) {
	m := fsm.New()
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	byCtx := m.Subscribe(ctx)
	byClose := m.Subscribe(context.Background())
	<-byCtx.C() // the snapshot
	cancel()
	byClose.Close()
	byClose.Close()
	for range byCtx.C() { // drains to close
	}
	for range byClose.C() {
	}
	// Later transitions do not block on the gone subscribers.
	fire(t, m, fsm.Input{Event: fsm.EventConnect})
	fire(t, m, fsm.Input{Event: fsm.EventDialed})
	assert.Equal(t, fsm.Open, m.State())
}

func TestIteratorBreak(t *testing.T) {
	m := fsm.New()
	defer m.Close()
	go func() {
		_, err := m.Fire(context.Background(), fsm.Input{Event: fsm.EventConnect})
		assert.NoError(t, err)
	}()
	for tr := range m.Transitions(context.Background()) {
		if tr.To == fsm.Connecting {
			break
		}
	}
	assert.Equal(t, fsm.Connecting, m.State())
}

func TestTransitionString(t *testing.T) {
	tr := fsm.Transition{Seq: 3, From: fsm.Open, To: fsm.Waiting, Event: fsm.EventDropped, Attempt: 1,
		CloseCode: 1006, Transport: "websocket", Cause: errors.New("EOF")}
	assert.Equal(t, "#3 Open --dropped--> Waiting (attempt 1, code 1006, websocket: EOF)", tr.String())
	assert.Equal(t, "#1 Idle --connect--> Connecting", fsm.Transition{Seq: 1, From: fsm.Idle, To: fsm.Connecting,
		Event: fsm.EventConnect}.String())
}

// TestMachinesOfOneDefinitionKeepTheirOwnState: machines of one definition
// run their transitions on looplab FSMs they share (borrowed one at a
// time); each still moves from its own state, however their transitions
// interleave, and a refused input in one changes no other.
func TestMachinesOfOneDefinitionKeepTheirOwnState(t *testing.T) {
	const machines, rounds = 16, 300
	var wg sync.WaitGroup
	for i := range machines {
		wg.Go(func() {
			m := fsm.New()
			defer m.Close()
			ctx := context.Background()
			// The machines start the cycle at different points, so that at
			// any moment they are in different states.
			step := func(in fsm.Input, want fsm.State) bool {
				tr, err := m.Fire(ctx, in)
				return assert.NoError(t, err) && assert.Equal(t, want, tr.To) && assert.Equal(t, want, m.State())
			}
			if !step(fsm.Input{Event: fsm.EventConnect}, fsm.Connecting) {
				return
			}
			for r := range rounds {
				if (r+i)%3 == 0 {
					// Not allowed in Connecting: refused, nothing moves.
					_, err := m.Fire(ctx, fsm.Input{Event: fsm.EventConnect})
					var forbidden *fsm.ForbiddenError
					if !assert.ErrorAs(t, err, &forbidden) || !assert.Equal(t, fsm.Connecting, m.State()) {
						return
					}
				}
				if !step(fsm.Input{Event: fsm.EventDialed}, fsm.Open) ||
					!step(fsm.Input{Event: fsm.EventDropped}, fsm.Waiting) ||
					!step(fsm.Input{Event: fsm.EventRetry}, fsm.Connecting) {
					return
				}
			}
		})
	}
	wg.Wait()
}
