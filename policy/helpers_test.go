package policy_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/policy"
)

// stats returns the mean and coefficient of variation of ds.
func stats(ds []time.Duration) (mean, cv float64) {
	var sum float64
	for _, d := range ds {
		sum += float64(d)
	}
	mean = sum / float64(len(ds))
	var sq float64
	for _, d := range ds {
		sq += (float64(d) - mean) * (float64(d) - mean)
	}
	return mean, math.Sqrt(sq/float64(len(ds))) / mean
}

// mustDelay asserts d retries and returns its delay.
func mustDelay(t *testing.T, d policy.Decision) time.Duration {
	t.Helper()
	require.False(t, d.Stop, "unexpected stop: %v", d.Reason)
	require.NoError(t, d.Reason)
	return d.Delay
}

// mustStop asserts d stops with a *StopError of rule and returns it.
func mustStop(t *testing.T, d policy.Decision, rule string) *policy.StopError {
	t.Helper()
	require.True(t, d.Stop, "expected a stop, got delay %v", d.Delay)
	se, ok := asStop(d.Reason)
	require.True(t, ok, "reason %T is not a *StopError", d.Reason)
	require.Equal(t, rule, se.Rule)
	return se
}

// stubRand always returns v.
type stubRand float64

func (s stubRand) Float64() float64 { return float64(s) }

// fixed is a custom strategy that always waits d.
func fixed(d time.Duration) policy.Reconnect {
	return policy.Func(func(policy.RetryContext) policy.Decision { return policy.Decision{Delay: d} })
}
