package policy_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tether-go/tether/policy"
)

// genRand draws a seeded source, or one stuck at an edge of [0, 1) (or
// outside it, which unit clamps), so the bounds' ends are reached.
func genRand(t *rapid.T) policy.Rand {
	return rapid.OneOf(
		rapid.Map(rapid.Uint64(), func(seed uint64) policy.Rand { return policy.NewRand(seed) }),
		rapid.Map(rapid.SampledFrom([]float64{0, 0x1.fffffffffffffp-1, 1, 2, -1, math.NaN()}),
			func(f float64) policy.Rand { return stubRand(f) }),
	).Draw(t, "rand")
}

// genStrategy draws an Exponential or a Schedule, valid or not.
func genStrategy(t *rapid.T) policy.Reconnect {
	if rapid.Bool().Draw(t, "exponential") {
		e := genExponential(t)
		e.Rand = genRand(t)
		return e
	}
	delays := rapid.SliceOfN(rapid.Int64Range(-1, int64(time.Minute)), 0, 6).Draw(t, "delays")
	s := policy.Schedule{Repeat: rapid.Bool().Draw(t, "repeat"), Spread: rapid.Float64Range(0, 1).Draw(t, "spread"),
		Rand: genRand(t)}
	for _, d := range delays {
		s.Delays = append(s.Delays, time.Duration(d))
	}
	return s
}

// TestPropertyBoundsHoldEveryDraw: whatever the policy, the context and the
// random source, Next lands within Bounds: it stops when Bounds says it
// stops (for the same rule), and otherwise waits a delay within [Min,
// Max], or is stopped by the elapsed cap, the one stop that depends on
// the draw.
func TestPropertyBoundsHoldEveryDraw(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		strategy := genStrategy(t)
		opts := []policy.Option{
			policy.WithMaxAttempts(rapid.IntRange(0, 20).Draw(t, "maxAttempts")),
			policy.WithMaxElapsed(time.Duration(rapid.Int64Range(0, int64(2*time.Hour)).Draw(t, "maxElapsed"))),
			policy.WithFloorSpread(rapid.Float64Range(0, 1).Draw(t, "floorSpread")),
			policy.WithRand(genRand(t)),
		}
		var p policy.Reconnect = strategy
		if rapid.Bool().Draw(t, "composed") {
			composed, err := policy.New(strategy, opts...)
			if err != nil {
				return // an invalid strategy: New refuses it
			}
			p = composed
		}
		rc := genContext(t)
		b, ok := p.(policy.Previewer).Bounds(rc)
		if !ok {
			t.Fatalf("%T cannot bound its decision", p)
		}
		d := p.Next(rc)
		switch {
		case b.Stop:
			var want, got *policy.StopError
			if !d.Stop || !errors.As(b.Reason, &want) || !errors.As(d.Reason, &got) || want.Rule != got.Rule {
				t.Fatalf("Bounds stops (%v), Next gave %+v", b.Reason, d)
			}
		case d.Stop:
			if !errors.Is(d.Reason, policy.ErrElapsedExceeded) {
				t.Fatalf("Bounds %+v, but Next stopped: %v", b, d.Reason)
			}
		case d.Delay < b.Min || d.Delay > b.Max:
			t.Fatalf("delay %v outside [%v, %v]", d.Delay, b.Min, b.Max)
		}
	})
}

// countingRand counts the numbers drawn from it.
type countingRand struct{ n *int }

func (c countingRand) Float64() float64 { *c.n++; return 0.5 }

func TestPreviewOf(t *testing.T) {
	s := time.Second
	exact, err := policy.New(policy.Exponential{Initial: s, Max: 8 * s, Multiplier: 2, Jitter: policy.JitterNone})
	require.NoError(t, err)
	var draws int
	equal, err := policy.New(policy.Exponential{Initial: s, Max: 8 * s, Multiplier: 2, Jitter: policy.JitterEqual,
		Rand: countingRand{&draws}}, policy.WithRand(countingRand{&draws}))
	require.NoError(t, err)
	decorrelated := policy.Exponential{Initial: s, Max: time.Minute, Jitter: policy.JitterDecorrelated}
	capped, err := policy.New(policy.Constant(10*s), policy.WithMaxAttempts(3))
	require.NoError(t, err)
	budget, err := policy.New(policy.Exponential{Initial: 10 * s, Max: 20 * s, Multiplier: 2}, policy.WithMaxElapsed(45*s))
	require.NoError(t, err)
	custom, err := policy.New(fixed(s))
	require.NoError(t, err)
	after1 := policy.RetryContext{Attempt: 1}
	steps := func(ss ...policy.Step) []policy.Step { return ss }

	for _, tc := range []struct {
		name  string
		p     policy.Reconnect
		rc    policy.RetryContext
		delay time.Duration
		n     int
		want  []policy.Step
		stop  error
	}{
		{"exact values", exact, after1, s, 5,
			steps(policy.Step{2, 2 * s, 2 * s}, policy.Step{3, 4 * s, 4 * s}, policy.Step{4, 8 * s, 8 * s},
				policy.Step{5, 8 * s, 8 * s}, policy.Step{6, 8 * s, 8 * s}), nil},
		{"n bounds it", exact, after1, s, 2, steps(policy.Step{2, 2 * s, 2 * s}, policy.Step{3, 4 * s, 4 * s}), nil},
		{"equal jitter: the ranges", equal, policy.RetryContext{Attempt: 3}, 3 * s, 3,
			steps(policy.Step{4, 4 * s, 8 * s}, policy.Step{5, 4 * s, 8 * s}, policy.Step{6, 4 * s, 8 * s}), nil},
		{"decorrelated: the widest reachable", decorrelated, after1, 1500 * time.Millisecond, 4,
			steps(policy.Step{2, s, 4500 * time.Millisecond}, policy.Step{3, s, 13500 * time.Millisecond},
				policy.Step{4, s, 40500 * time.Millisecond}, policy.Step{5, s, time.Minute}), nil},
		{"attempt cap", capped, after1, 10 * s, 5,
			steps(policy.Step{2, 10 * s, 10 * s}, policy.Step{3, 10 * s, 10 * s}), policy.ErrAttemptsExhausted},
		{"the scheduled attempt is the last", capped, policy.RetryContext{Attempt: 3}, 10 * s, 5, nil, policy.ErrAttemptsExhausted},
		{"schedule exhausted", policy.SignalR(), after1, 0, 5,
			steps(policy.Step{2, 2 * s, 2 * s}, policy.Step{3, 10 * s, 10 * s}, policy.Step{4, 30 * s, 30 * s}),
			policy.ErrScheduleExhausted},
		// The streak has lasted 10 s at the earliest when attempt 2 is
		// decided, 20 s for attempt 3, 30 s for attempt 4 (15 s left of the
		// 45 s budget: a draw above it would stop), and 40 s for attempt 5,
		// whose least delay would overrun it.
		{"elapsed cap", budget, after1, 10 * s, 5,
			steps(policy.Step{2, 10 * s, 20 * s}, policy.Step{3, 10 * s, 20 * s}, policy.Step{4, 10 * s, 15 * s}),
			policy.ErrElapsedExceeded},
		// The failures ahead are assumed to carry no floor: a Retry-After
		// on the current one does not repeat.
		{"no floor ahead", exact, policy.RetryContext{Attempt: 1, HTTPStatus: 503, HasRetryAfter: true, RetryAfter: time.Minute},
			time.Minute, 1, steps(policy.Step{2, 2 * s, 2 * s}), nil},
		{"never", policy.Never(), after1, 0, 5, nil, policy.ErrNever},
		{"a custom strategy cannot tell", custom, after1, s, 5, nil, nil},
		{"a Func cannot tell", fixed(s), after1, s, 5, nil, nil},
		{"nothing asked", exact, after1, s, 0, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pv := policy.PreviewOf(tc.p, tc.rc, tc.delay, tc.n)
			assert.Equal(t, tc.want, pv.Steps)
			if tc.stop == nil {
				assert.NoError(t, pv.Stop)
				return
			}
			require.ErrorIs(t, pv.Stop, tc.stop)
			var se *policy.StopError
			require.ErrorAs(t, pv.Stop, &se)
			assert.Equal(t, tc.rc.Attempt+len(tc.want)+1, se.Attempt, "the attempt it would refuse")
		})
	}
	assert.Zero(t, draws, "a preview draws no random number")
}
