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

func TestSignalRPresetExact(t *testing.T) {
	s := policy.SignalR()
	assert.Equal(t, []time.Duration{0, 2 * time.Second, 10 * time.Second, 30 * time.Second}, delays(t, s, 4))
	se := mustStop(t, s.Next(policy.RetryContext{Attempt: 5}), policy.RuleSchedule)
	assert.ErrorIs(t, se, policy.ErrScheduleExhausted)
	assert.Equal(t, 5, se.Attempt)
}

func TestPhoenixPresetExact(t *testing.T) {
	ms := time.Millisecond
	want := []time.Duration{10 * ms, 50 * ms, 100 * ms, 150 * ms, 200 * ms, 250 * ms, 500 * ms, 1000 * ms, 2000 * ms, 5000 * ms, 5000 * ms, 5000 * ms}
	assert.Equal(t, want, delays(t, policy.Phoenix(), len(want)))
	assert.Equal(t, 5*time.Second, mustDelay(t, policy.Phoenix().Next(policy.RetryContext{Attempt: 1000})))
}

func TestConstant(t *testing.T) {
	assert.Equal(t, []time.Duration{0, 0, 0}, delays(t, policy.Constant(0), 3))
	c := policy.Constant(3 * time.Second)
	for _, n := range []int{0, 1, 2, 100, math.MaxInt} {
		assert.Equal(t, 3*time.Second, mustDelay(t, c.Next(policy.RetryContext{Attempt: n})))
	}
}

func TestScheduleSpread(t *testing.T) {
	s := policy.Schedule{Delays: []time.Duration{10 * time.Second}, Repeat: true, Spread: 0.5, Rand: policy.NewRand(5)}
	ds := make([]time.Duration, draws)
	for i := range ds {
		ds[i] = mustDelay(t, s.Next(policy.RetryContext{Attempt: i + 1}))
		require.Greater(t, ds[i], 5*time.Second)
		require.LessOrEqual(t, ds[i], 10*time.Second)
	}
	mean, cv := stats(ds)
	assert.InEpsilon(t, float64(7500*time.Millisecond), mean, 0.02)
	assert.Greater(t, cv, 0.1)
}

func TestScheduleValidate(t *testing.T) {
	cases := []struct {
		name  string
		s     policy.Schedule
		field string
	}{
		{"empty", policy.Schedule{}, "Schedule.Delays"},
		{"negative delay", policy.Schedule{Delays: []time.Duration{time.Second, -1}}, "Schedule.Delays"},
		{"negative spread", policy.Schedule{Delays: []time.Duration{time.Second}, Spread: -0.1}, "Schedule.Spread"},
		{"spread above 1", policy.Schedule{Delays: []time.Duration{time.Second}, Spread: 1.5}, "Schedule.Spread"},
		{"NaN spread", policy.Schedule{Delays: []time.Duration{time.Second}, Spread: math.NaN()}, "Schedule.Spread"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			ce, ok := errors.AsType[*policy.ConfigError](err)
			require.True(t, ok, "got %v", err)
			assert.Equal(t, tc.field, ce.Field)
			se := mustStop(t, tc.s.Next(policy.RetryContext{Attempt: 1}), policy.RuleConfig)
			assert.ErrorIs(t, se, policy.ErrInvalidConfig)
			_, err = policy.New(tc.s)
			assert.ErrorIs(t, err, policy.ErrInvalidConfig)
		})
	}
	assert.NoError(t, policy.SignalR().Validate())
	assert.NoError(t, policy.Phoenix().Validate())
}

func TestNever(t *testing.T) {
	se := mustStop(t, policy.Never().Next(policy.RetryContext{Attempt: 1}), policy.RuleNever)
	assert.ErrorIs(t, se, policy.ErrNever)

	// Composed, rules still name the real cause.
	p, err := policy.New(policy.Never())
	require.NoError(t, err)
	assert.ErrorIs(t, p.Next(policy.RetryContext{Attempt: 1}).Reason, policy.ErrNever)
	se = mustStop(t, p.Next(policy.RetryContext{Attempt: 1, HTTPStatus: 404}), policy.RuleHTTPStatus)
	assert.ErrorIs(t, se, policy.ErrTerminalHTTPStatus)
}
