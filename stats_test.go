package tether_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// TestStatsCountTraffic checks the message and byte counters in both
// directions, and the reconnect counters: the retry scheduled while
// Waiting, and the attempt counted once it starts.
func TestStatsCountTraffic(t *testing.T) {
	e := newEnv(t)
	c := client[string](e)
	msgs := c.Messages(context.Background())
	sc := e.accept()
	waitState(t, c, fsm.Open)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for _, p := range []string{"one", "two", "three"} {
		require.NoError(t, sc.Send(ctx, transport.Text, []byte(p)))
	}
	for range 3 {
		recv(t, msgs.C())
	}
	require.NoError(t, c.Send(ctx, "hello"))
	require.NoError(t, c.Send(ctx, []byte{1, 2}))
	for range 2 {
		_, err := sc.Recv(ctx)
		require.NoError(t, err)
	}
	st := c.Stats()
	assert.Equal(t, uint64(3), st.MessagesIn)
	assert.Equal(t, uint64(len("one")+len("two")+len("three")), st.BytesIn)
	assert.Equal(t, uint64(2), st.MessagesOut)
	assert.Equal(t, uint64(len("hello")+2), st.BytesOut)
	assert.Zero(t, st.Reconnects)
	assert.Zero(t, st.NextRetry)

	// State reads Waiting a moment before the reconnect decision is made
	// (the machine moves first; Stats.State and the transitions stream
	// hear of Waiting with the decision): wait for it.
	decided := make(chan tether.Retry, 1)
	stop := c.Watch(tether.Watcher{Retry: func(r tether.Retry) { decided <- r }})
	sc.Drop()
	assert.Equal(t, 1, recv(t, decided).Attempt)
	stop()
	st = c.Stats()
	assert.Equal(t, 1, st.NextRetry.Attempt)
	assert.Equal(t, time.Second, st.NextRetry.Delay, "exactBackoff's first delay")
	assert.Equal(t, e.clk.Now().Add(time.Second), st.NextRetryAt)
	assert.Zero(t, st.Reconnects, "not started yet")

	e.waitTimers(1)
	e.clk.Step(time.Second)
	e.accept()
	waitState(t, c, fsm.Open)
	st = c.Stats()
	assert.Equal(t, uint64(1), st.Reconnects)
	assert.Zero(t, st.NextRetry, "no retry is scheduled once it started")
	assert.True(t, st.NextRetryAt.IsZero())
	assert.Equal(t, uint64(2), st.PossiblyLost, "the two sends were never confirmed before the drop")
	assert.Equal(t, uint64(2), st.Drops())
}

// TestStatsCountDrops checks the drop counters by reason.
func TestStatsCountDrops(t *testing.T) {
	e := newEnv(t)
	c := client[string](e, tether.WithAutoConnect(false),
		tether.WithSendBuffer(1, 8, stream.DropOldest))
	ctx := context.Background()
	require.NoError(t, c.Send(ctx, "old"))
	require.NoError(t, c.Send(ctx, "new"))
	err := c.Send(ctx, "far too large to queue")
	require.ErrorIs(t, err, adapters.ErrTooLargeToQueue)
	st := c.Stats()
	assert.Equal(t, uint64(1), st.DropsBufferFull)
	assert.Equal(t, uint64(2), st.MessagesOut, "two accepted, the refused one is not counted")
	assert.Equal(t, uint64(6), st.BytesOut)

	require.NoError(t, c.Close(ctx))
	st = c.Stats()
	assert.Equal(t, uint64(1), st.DropsClosed, "the queued message, dropped by Close")
	assert.Equal(t, uint64(2), st.Drops())
}

// TestStatsWatchRoundTrips checks that a Watcher hears every round trip
// until it stops, and that Stats counts them.
func TestStatsWatchRoundTrips(t *testing.T) {
	e := newEnv(t)
	c := client[string](e, tether.WithHeartbeat(policy.Heartbeat{Interval: time.Second, PongTimeout: 500 * time.Millisecond}))
	rtts := make(chan time.Duration, 4)
	transitions := make(chan fsm.Transition, 16)
	stop := c.Watch(tether.Watcher{RTT: func(d time.Duration) { rtts <- d },
		Transition: func(tr fsm.Transition) { transitions <- tr }})
	sc := e.accept()
	waitState(t, c, fsm.Open)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	go func() { _, _ = sc.Recv(ctx) }() // the server side reads, so it answers pings
	e.waitTimers(1)
	e.clk.Step(time.Second)
	recv(t, rtts)
	assert.Equal(t, uint64(1), c.Stats().RTTSamples)
	sc.Drop()
	for tr := recv(t, transitions); tr.Event != fsm.EventDropped; tr = recv(t, transitions) {
		assert.Less(t, tr.Seq, uint64(3), "only connect and dialed come before the drop")
	}
	stop()
	stop() // idempotent
	cancel()
}

// TestStatsRetryIsSetWhenWaitingShows: a subscriber that hears of Waiting
// on the transitions stream finds the retry the policy scheduled in Stats,
// and one that hears of the retry finds it counted. The test holds the
// machine's actor in a Watcher, which runs after the stream's subscribers
// were handed the transition, so a decision or a count made later than the
// publication would show as zero.
func TestStatsRetryIsSetWhenWaitingShows(t *testing.T) {
	e := newEnv(t)
	c := client[string](e)
	sub := c.Transitions(context.Background())
	defer sub.Close()
	holds := make(chan chan struct{})
	stop := c.Watch(tether.Watcher{Transition: func(tr fsm.Transition) {
		if tr.To != fsm.Waiting && tr.Event != fsm.EventRetry {
			return
		}
		release := make(chan struct{})
		select {
		case holds <- release:
		case <-time.After(deadline):
			return
		}
		select {
		case <-release:
		case <-time.After(deadline):
		}
	}})
	defer stop()
	next := func(want fsm.Event) fsm.Transition {
		t.Helper()
		for {
			if tr := recv(t, sub.C()); tr.Event == want {
				return tr
			}
		}
	}
	sc := e.accept()
	waitState(t, c, fsm.Open)

	sc.Drop()
	tr := next(fsm.EventDropped)
	release := recv(t, holds) // the actor is still reacting to the drop
	st := c.Stats()
	close(release)
	assert.Equal(t, fsm.Waiting, st.State)
	assert.Equal(t, 1, st.NextRetry.Attempt, "Waiting shows with its retry")
	assert.Equal(t, time.Second, st.NextRetry.Delay)
	assert.Equal(t, tr.Time.Add(time.Second), st.NextRetryAt)

	e.waitTimers(1)
	e.clk.Step(time.Second)
	next(fsm.EventRetry)
	release = recv(t, holds)
	st = c.Stats()
	close(release)
	assert.Equal(t, fsm.Connecting, st.State)
	assert.Equal(t, uint64(1), st.Reconnects, "the retry is counted when it shows")
	assert.Zero(t, st.NextRetry, "and no longer scheduled")
	e.accept()
	waitState(t, c, fsm.Open)
}

// TestStatsScheduleAhead: while Waiting, Stats shows the attempts that
// would follow the scheduled one, with the interval each delay is drawn
// from (equal jitter here), and that the policy gives up after the third;
// each failed attempt moves the schedule on, on the fake clock.
func TestStatsScheduleAhead(t *testing.T) {
	e := newEnv(t)
	p, err := policy.New(policy.Exponential{Initial: time.Second, Max: 8 * time.Second, Multiplier: 2,
		Rand: policy.NewRand(1)}, policy.WithMaxAttempts(3))
	require.NoError(t, err)
	c := client[string](e, tether.WithReconnect(p))
	decided := make(chan tether.Retry, 4)
	stop := c.Watch(tether.Watcher{Retry: func(r tether.Retry) { decided <- r }})
	defer stop()
	sc := e.accept()
	waitState(t, c, fsm.Open)
	e.srv.SetDefault(memoryUnreachable())
	sc.Drop()

	s := time.Second
	for _, want := range [][]policy.Step{
		{{Attempt: 2, Min: s, Max: 2 * s}, {Attempt: 3, Min: 2 * s, Max: 4 * s}},
		{{Attempt: 3, Min: 2 * s, Max: 4 * s}},
		nil, // attempt 3 is the last
	} {
		r := recv(t, decided)
		st := c.Stats()
		require.Equal(t, fsm.Waiting, st.State)
		require.Equal(t, r, st.NextRetry)
		first := time.Duration(1<<(r.Attempt-1)) * s
		assert.GreaterOrEqual(t, r.Delay, first/2, "attempt %d", r.Attempt)
		assert.LessOrEqual(t, r.Delay, first)
		assert.Equal(t, e.clk.Now().Add(r.Delay), st.NextRetryAt)
		assert.Equal(t, want, st.Ahead.Steps, "after attempt %d", r.Attempt)
		require.ErrorIs(t, st.Ahead.Stop, policy.ErrAttemptsExhausted)
		if len(st.Ahead.Steps) > 0 {
			st.Ahead.Steps[0].Min = 0
			assert.Equal(t, want[0], c.Stats().Ahead.Steps[0], "a copy")
		}
		e.waitTimers(1)
		e.clk.Step(r.Delay)
	}
	select {
	case <-c.Done(): // the policy gave up: Closed, and every hook ran
	case <-time.After(deadline):
		require.FailNow(t, "the client did not give up")
	}
	st := c.Stats()
	assert.Equal(t, fsm.Closed, st.State)
	assert.Zero(t, st.NextRetry)
	assert.Zero(t, st.Ahead)
}

// TestStatsNoScheduleAheadForACustomPolicy: a policy that cannot preview
// (a policy.Func) shows the retry scheduled and nothing ahead.
func TestStatsNoScheduleAheadForACustomPolicy(t *testing.T) {
	e := newEnv(t)
	c := client[string](e, tether.WithReconnect(policy.Func(func(policy.RetryContext) policy.Decision {
		return policy.Decision{Delay: time.Second}
	})))
	decided := make(chan tether.Retry, 1)
	stop := c.Watch(tether.Watcher{Retry: func(r tether.Retry) { decided <- r }})
	defer stop()
	sc := e.accept()
	waitState(t, c, fsm.Open)
	sc.Drop()
	recv(t, decided)
	st := c.Stats()
	assert.Equal(t, fsm.Waiting, st.State)
	assert.Equal(t, time.Second, st.NextRetry.Delay)
	assert.Zero(t, st.Ahead)
}

// TestStatsWaitingAlwaysHasItsRetry: a reader polling Stats while the
// client is dropped and reconnects again and again never sees Waiting
// without the retry the policy (which always schedules one) decided. The
// test steps to the retry only once the reader has seen the client Waiting.
func TestStatsWaitingAlwaysHasItsRetry(t *testing.T) {
	e := newEnv(t)
	c := client[string](e)
	done := make(chan struct{})
	saw := make(chan struct{}, 1)
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-done:
				return
			default:
			}
			st := c.Stats()
			if st.State != fsm.Waiting {
				continue
			}
			if !assert.NotZero(t, st.NextRetry.Attempt, "Waiting without its retry") ||
				!assert.False(t, st.NextRetryAt.IsZero()) {
				return
			}
			select {
			case saw <- struct{}{}:
			default:
			}
		}
	}()
	sc := e.accept()
	waitState(t, c, fsm.Open)
	for range 20 {
		select {
		case <-saw: // from the previous round
		default:
		}
		sc.Drop()
		recv(t, saw)
		e.waitTimers(1)
		e.clk.Step(c.Stats().NextRetryAt.Sub(e.clk.Now()))
		sc = e.accept()
		waitState(t, c, fsm.Open)
	}
	close(done)
	select {
	case <-polled:
	case <-time.After(deadline):
		require.FailNow(t, "the reader did not stop")
	}
}

// armingClock is a fake clock that runs armed, on the caller's goroutine,
// each time a timer function is armed.
type armingClock struct {
	*tethertest.FakeClock
	armed func(d time.Duration)
}

func (c *armingClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	if c.armed != nil {
		c.armed(d)
	}
	return c.FakeClock.AfterFunc(d, f)
}

// TestRetryTimerComesAfterStatsAndTrace: when the reconnect timer is armed,
// Stats and Trace already show the Waiting it was armed for, so a test that
// waits for the timer on its fake clock (testing.md: "wait for what the
// code under test arms") finds them up to date. The timer used to be
// armed while the Client's first hook asked for the decision, before it
// recorded the transition: an outside review saw Stats still Open, with
// no retry, 3 times in 30.
func TestRetryTimerComesAfterStatsAndTrace(t *testing.T) {
	e := newEnv(t)
	type seen struct {
		delay time.Duration
		stats tether.Stats
		last  fsm.Transition
	}
	var (
		mu   sync.Mutex
		at   []seen
		c    *tether.Client[string]
		made = make(chan struct{})
	)
	clk := &armingClock{FakeClock: e.clk}
	clk.armed = func(d time.Duration) {
		select {
		case <-made:
		default:
			return // New's own timers
		}
		tr := c.Trace()
		mu.Lock()
		at = append(at, seen{d, c.Stats(), tr[len(tr)-1]})
		mu.Unlock()
	}
	c = client[string](e, tether.WithClock(clk))
	close(made)
	for i, want := range []time.Duration{time.Second, 2 * time.Second} {
		sc := e.accept()
		waitState(t, c, fsm.Open)
		sc.Drop()
		e.waitTimers(1)
		mu.Lock()
		require.Len(t, at, i+1, "one timer armed for the retry")
		s := at[i]
		mu.Unlock()
		assert.Equal(t, want, s.delay)
		assert.Equal(t, fsm.Waiting, s.stats.State, "Stats when the timer was armed")
		assert.Equal(t, want, s.stats.NextRetry.Delay, "the retry in Stats when the timer was armed")
		assert.Equal(t, fsm.Waiting, s.last.To, "the trace's last transition when the timer was armed")
		e.clk.Step(want)
	}
	e.accept()
	waitState(t, c, fsm.Open)
}
