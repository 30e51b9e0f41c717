package adapters_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

func TestDelaySequenceRunsOnTheClock(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.srv.SetDefault(memory.Unreachable())
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialFailed)

	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		r.waitTimers(1)
		assert.Equal(t, []time.Duration{want}, r.clk.Pending(), "delay before attempt %d", i+1)
		r.clk.Step(want - time.Millisecond)
		assert.Equal(t, fsm.Waiting, r.m.State(), "no retry before the delay has passed")
		r.clk.Step(time.Millisecond)
		tr := r.expect(fsm.EventRetry)
		assert.Equal(t, i+1, tr.Attempt)
		r.expect(fsm.EventDialFailed)
	}
}

func TestGiveUpClosesWithCause(t *testing.T) {
	r := newRig(t, rigConfig{policy: noJitter(policy.WithMaxAttempts(2))})
	r.srv.SetDefault(memory.Unreachable())
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialFailed)
	for range 2 {
		r.waitTimers(1)
		r.clk.StepToNext()
		r.expect(fsm.EventRetry, fsm.EventDialFailed)
	}
	tr := r.expect(fsm.EventGiveUp)
	assert.Equal(t, fsm.Closed, tr.To)
	require.ErrorIs(t, tr.Cause, policy.ErrAttemptsExhausted)
	var stop *policy.StopError
	require.ErrorAs(t, tr.Cause, &stop)
	assert.Equal(t, 3, stop.Attempt)
	assert.Zero(t, r.clk.Waiters(), "no timer is left armed")
}

func TestRetryAfterIsHonoured(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.srv.Script(memory.Refuse(http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}}, "slow down"))
	r.connect()
	tr := r.expect(fsm.EventConnect, fsm.EventDialFailed)
	var he *transport.HandshakeError
	require.ErrorAs(t, tr.Cause, &he)
	assert.Equal(t, http.StatusTooManyRequests, he.StatusCode)
	r.waitTimers(1)
	assert.Equal(t, []time.Duration{7 * time.Second}, r.clk.Pending(), "Retry-After beats the 1 s backoff")
	r.clk.Step(7 * time.Second)
	r.expect(fsm.EventRetry, fsm.EventDialed)
}

func TestUnauthorizedIsTerminalWithoutCredentials(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.srv.Script(memory.Refuse(http.StatusUnauthorized, nil, "no"))
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialFailed)
	tr := r.expect(fsm.EventGiveUp)
	assert.ErrorIs(t, tr.Cause, policy.ErrUnauthorized)
	assert.ErrorIs(t, tr.Cause, policy.ErrTerminalHTTPStatus)
	assert.Equal(t, fsm.Closed, r.m.State())
}

func TestUnauthorizedRetriesWithFreshCredentials(t *testing.T) {
	r := newRig(t, rigConfig{refresh: true})
	r.srv.Script(memory.Refuse(http.StatusUnauthorized, nil, "expired"))
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialFailed)
	r.waitTimers(1)
	r.clk.StepToNext()
	r.expect(fsm.EventRetry, fsm.EventDialed)

	dials := r.srv.Dials()
	require.Len(t, dials, 2)
	assert.Equal(t, "Bearer t1", dials[0].Header.Get("Authorization"))
	assert.Equal(t, "Bearer t2", dials[1].Header.Get("Authorization"), "the provider runs on every attempt")
}

func TestMinUptimeResetsTheAttemptCount(t *testing.T) {
	r := newRig(t, rigConfig{policy: noJitter(policy.WithMinUptime(5 * time.Second))})
	r.srv.Script(memory.Unreachable(), memory.Unreachable())
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialFailed)
	r.waitTimers(1)
	r.clk.StepToNext() // 1 s
	r.expect(fsm.EventRetry, fsm.EventDialFailed)
	r.waitTimers(1)
	assert.Equal(t, []time.Duration{2 * time.Second}, r.clk.Pending())
	r.clk.StepToNext()
	r.expect(fsm.EventRetry, fsm.EventDialed)

	// Short-lived: the streak goes on and the backoff keeps growing.
	r.accept().Drop()
	r.expect(fsm.EventDropped)
	r.waitTimers(1)
	assert.Equal(t, []time.Duration{4 * time.Second}, r.clk.Pending(), "an unstable connection does not reset the backoff")
	r.clk.StepToNext()
	r.expect(fsm.EventRetry, fsm.EventDialed)

	// Stable: it stayed up past the minimum uptime, so attempt 1 again.
	sc := r.accept()
	r.clk.Step(5 * time.Second)
	sc.Drop()
	r.expect(fsm.EventDropped)
	r.waitTimers(1)
	assert.Equal(t, []time.Duration{time.Second}, r.clk.Pending())
	r.clk.StepToNext()
	tr := r.expect(fsm.EventRetry)
	assert.Equal(t, 1, tr.Attempt)
}

func TestCloseDuringWaitIsPromptAndStopsTheTimer(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.srv.SetDefault(memory.Unreachable())
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialFailed)
	r.waitTimers(1)
	tr, err := r.con.Close(context.Background(), transport.StatusNormalClosure, "")
	require.NoError(t, err)
	assert.Equal(t, fsm.Waiting, tr.From)
	assert.Equal(t, fsm.Closed, tr.To)
	assert.Zero(t, r.clk.Waiters(), "the wait's timer is stopped")
	r.clk.Step(time.Hour)
	r.expect(fsm.EventClose)
	assert.Equal(t, fsm.Closed, r.m.State())
}

func TestCloseDuringDialAbandonsIt(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.srv.Script(memory.Hang())
	r.connect()
	r.expect(fsm.EventConnect)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	_, err := r.srv.WaitDials(ctx, 1) // the dial is under way
	require.NoError(t, err)
	sc := r.accept()

	tr, err := r.con.Close(ctx, transport.StatusNormalClosure, "")
	require.NoError(t, err)
	assert.Equal(t, fsm.Connecting, tr.From)
	require.NoError(t, r.con.Wait(ctx), "the dial goroutine returns promptly")
	<-sc.Done()
	assert.ErrorIs(t, sc.Err(), memory.ErrAbandoned, "the half-made connection is closed")
}

func TestRetryNowResetsTheBackoff(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.srv.Script(memory.Unreachable(), memory.Unreachable(), memory.Unreachable())
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialFailed)
	r.waitTimers(1)
	r.clk.StepToNext()
	r.expect(fsm.EventRetry, fsm.EventDialFailed)
	r.waitTimers(1)
	assert.Equal(t, []time.Duration{2 * time.Second}, r.clk.Pending())

	require.NoError(t, r.rec.RetryNow(context.Background()))
	tr := r.expect(fsm.EventRetry)
	assert.Equal(t, 1, tr.Attempt, "the immediate dial is attempt 1 of a fresh streak")
	r.expect(fsm.EventDialFailed)
	r.waitTimers(1)
	assert.Equal(t, []time.Duration{2 * time.Second}, r.clk.Pending(),
		"the old wait was cancelled and the backoff started over: this is attempt 2's delay")
	r.clk.StepToNext()
	tr = r.expect(fsm.EventRetry)
	assert.Equal(t, 2, tr.Attempt, "counted on from the immediate dial (it used to be 1 again)")
	r.expect(fsm.EventDialed)

	// From Open it replaces the connection at once.
	sc := r.accept()
	require.NoError(t, r.rec.RetryNow(context.Background()))
	tr = r.expect(fsm.EventDropped)
	assert.ErrorIs(t, tr.Cause, adapters.ErrReconnectRequested)
	tr = r.expect(fsm.EventRetry)
	assert.Equal(t, 1, tr.Attempt)
	r.expect(fsm.EventDialed)
	<-sc.Done()
	assert.Zero(t, r.clk.Waiters())
}

func TestServerCloseCodeRules(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	r.accept().Close(transport.StatusGoingAway, "restart")
	tr := r.expect(fsm.EventDropped)
	assert.EqualValues(t, transport.StatusGoingAway, tr.CloseCode)
	r.waitTimers(1) // 1001 retries
	r.clk.StepToNext()
	r.expect(fsm.EventRetry, fsm.EventDialed)

	r.accept().Close(4500, "banned")
	r.expect(fsm.EventDropped)
	tr = r.expect(fsm.EventGiveUp)
	assert.ErrorIs(t, tr.Cause, policy.ErrTerminalCloseCode)
}

// TestDecideEarly: a hook that runs before the adapter's and calls Decide
// gets the decision the adapter then acts on and reports, once: one policy
// call, one timer, with when it is due and the schedule ahead.
func TestDecideEarly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []adapters.ReconnectOption
		preview []policy.Step
	}{
		{"schedule ahead", nil, []policy.Step{{Attempt: 2, Min: 2 * time.Second, Max: 2 * time.Second}}},
		{"no preview asked", []adapters.ReconnectOption{adapters.WithPreviewSteps(0)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := tethertest.NewFakeClock(time.Time{})
			m := fsm.New(fsm.WithClock(clk))
			defer func() { require.NoError(t, m.Close()) }()
			var rec *adapters.Reconnect
			var early, reported []adapters.Decision
			var asked int
			// Hooks run on the goroutine that fires while the machine is
			// idle: this one.
			m.AddHook(func(tr fsm.Transition) (fsm.Input, bool) {
				d, ok := rec.Decide(tr)
				assert.Equal(t, tr.To == fsm.Waiting, ok, "%s", tr)
				if ok {
					early = append(early, d)
					again, _ := rec.Decide(tr)
					assert.Equal(t, d, again, "a second call returns the same decision")
				}
				return fsm.Input{}, false
			})
			p, err := policy.New(policy.Exponential{Initial: time.Second, Max: 8 * time.Second, Multiplier: 2,
				Jitter: policy.JitterNone}, policy.WithMaxAttempts(2))
			require.NoError(t, err)
			counted := policy.Func(func(rc policy.RetryContext) policy.Decision {
				asked++
				return p.Next(rc)
			})
			rec = adapters.NewReconnect(m, previewing{counted, p}, append([]adapters.ReconnectOption{
				adapters.WithReconnectClock(clk),
				adapters.WithDecisionHook(func(d adapters.Decision) { reported = append(reported, d) })}, tc.opts...)...)
			defer rec.Detach()

			ctx := context.Background()
			_, err = m.Fire(ctx, fsm.Input{Event: fsm.EventConnect})
			require.NoError(t, err)
			_, err = m.Fire(ctx, fsm.Input{Event: fsm.EventDialFailed, Cause: transport.ErrClosed})
			require.NoError(t, err)
			require.Len(t, early, 1)
			assert.Equal(t, early, reported, "the hook reports the decision made early")
			assert.Equal(t, 1, asked, "the policy was asked once")
			d := early[0]
			assert.Equal(t, time.Second, d.Decision.Delay)
			assert.Equal(t, clk.Now().Add(time.Second), d.Due)
			assert.Equal(t, tc.preview, d.Ahead.Steps)
			if tc.preview != nil {
				assert.ErrorIs(t, d.Ahead.Stop, policy.ErrAttemptsExhausted)
			} else {
				assert.Zero(t, d.Ahead)
			}
			assert.Equal(t, []time.Duration{time.Second}, clk.Pending(), "one timer")
		})
	}
}

// previewing is a policy whose decisions are next's and whose bounds are
// bounds'.
type previewing struct {
	next   policy.Reconnect
	bounds policy.Previewer
}

func (p previewing) Next(rc policy.RetryContext) policy.Decision { return p.next.Next(rc) }
func (p previewing) Bounds(rc policy.RetryContext) (policy.Bounds, bool) {
	return p.bounds.Bounds(rc)
}
