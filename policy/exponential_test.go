package policy_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/policy"
)

func delays(t *testing.T, r policy.Reconnect, attempts int) []time.Duration {
	t.Helper()
	out := make([]time.Duration, 0, attempts)
	for n := 1; n <= attempts; n++ {
		out = append(out, mustDelay(t, r.Next(policy.RetryContext{Attempt: n})))
	}
	return out
}

func TestExponentialDefaultSequenceWithoutJitter(t *testing.T) {
	ms := time.Millisecond
	want := []time.Duration{
		1000 * ms, 1600 * ms, 2560 * ms, 4096 * ms, 6553600 * time.Microsecond,
		10485760 * time.Microsecond, 16777216 * time.Microsecond, 26843545600 * time.Nanosecond,
		30 * time.Second, 30 * time.Second, 30 * time.Second,
	}
	assert.Equal(t, want, delays(t, policy.Exponential{Jitter: policy.JitterNone}, len(want)))
}

func TestExponentialCustomSequence(t *testing.T) {
	ms := time.Millisecond
	e := policy.Exponential{Initial: 100 * ms, Max: time.Second, Multiplier: 2, Jitter: policy.JitterNone}
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}
	assert.Equal(t, want, delays(t, e, len(want)))

	constant := policy.Exponential{Initial: 3 * time.Second, Multiplier: 1, Jitter: policy.JitterNone}
	assert.Equal(t, []time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second}, delays(t, constant, 3))
}

func TestExponentialAttemptEdges(t *testing.T) {
	e := policy.Exponential{Jitter: policy.JitterNone}
	for _, n := range []int{0, -1, math.MinInt} {
		assert.Equal(t, time.Second, mustDelay(t, e.Next(policy.RetryContext{Attempt: n})), "attempt %d counts as 1", n)
	}
	for _, n := range []int{100, 10_000, math.MaxInt} {
		assert.Equal(t, 30*time.Second, mustDelay(t, e.Next(policy.RetryContext{Attempt: n})), "attempt %d is capped", n)
	}
}

func TestExponentialMaxDefaultsAboveLargeInitial(t *testing.T) {
	e := policy.Exponential{Initial: time.Minute, Jitter: policy.JitterNone}
	require.NoError(t, e.Validate())
	assert.Equal(t, []time.Duration{time.Minute, time.Minute}, delays(t, e, 2))
}

func TestExponentialValidate(t *testing.T) {
	cases := []struct {
		name  string
		e     policy.Exponential
		field string
	}{
		{"negative initial", policy.Exponential{Initial: -1}, "Exponential.Initial"},
		{"negative max", policy.Exponential{Max: -1}, "Exponential.Max"},
		{"max below initial", policy.Exponential{Initial: 2 * time.Second, Max: time.Second}, "Exponential.Max"},
		{"multiplier below 1", policy.Exponential{Multiplier: 0.5}, "Exponential.Multiplier"},
		{"negative multiplier", policy.Exponential{Multiplier: -2}, "Exponential.Multiplier"},
		{"NaN multiplier", policy.Exponential{Multiplier: math.NaN()}, "Exponential.Multiplier"},
		{"infinite multiplier", policy.Exponential{Multiplier: math.Inf(1)}, "Exponential.Multiplier"},
		{"unknown jitter", policy.Exponential{Jitter: policy.Jitter(99)}, "Exponential.Jitter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.e.Validate()
			require.ErrorIs(t, err, policy.ErrInvalidConfig)
			ce, ok := errors.AsType[*policy.ConfigError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, ce.Field)

			// Used directly, an invalid value stops with the config error.
			se := mustStop(t, tc.e.Next(policy.RetryContext{Attempt: 1}), policy.RuleConfig)
			assert.ErrorIs(t, se, policy.ErrInvalidConfig)

			_, err = policy.New(tc.e)
			assert.ErrorIs(t, err, policy.ErrInvalidConfig)
		})
	}
	assert.NoError(t, policy.Exponential{}.Validate(), "the zero value means the defaults")
}

func TestJitterString(t *testing.T) {
	assert.Equal(t, "equal", policy.JitterEqual.String())
	assert.Equal(t, "decorrelated", policy.JitterDecorrelated.String())
	assert.Equal(t, "Jitter(42)", policy.Jitter(42).String())
}
