package policy_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/policy"
)

const draws = 10_000

// sample draws n delays for one attempt.
func sample(t *testing.T, e policy.Exponential, attempt int) []time.Duration {
	t.Helper()
	out := make([]time.Duration, draws)
	for i := range out {
		out[i] = mustDelay(t, e.Next(policy.RetryContext{Attempt: attempt}))
	}
	return out
}

func TestJitterFullBoundsAndSpread(t *testing.T) {
	e := policy.Exponential{Jitter: policy.JitterFull, Rand: policy.NewRand(1)}
	const base = 4096 * time.Millisecond // attempt 4
	ds := sample(t, e, 4)
	lo, hi := ds[0], ds[0]
	for _, d := range ds {
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.Less(t, d, base)
		lo, hi = min(lo, d), max(hi, d)
	}
	mean, cv := stats(ds)
	assert.InEpsilon(t, float64(base)/2, mean, 0.02, "uniform on [0, d) has mean d/2")
	assert.Greater(t, cv, 0.5, "uniform on [0, d) has CV 0.577")
	assert.Less(t, lo, base/100, "the whole window is used")
	assert.Greater(t, hi, base*99/100)
}

func TestJitterEqualBoundsAndSpread(t *testing.T) {
	e := policy.Exponential{Jitter: policy.JitterEqual, Rand: policy.NewRand(2)}
	const base = 30 * time.Second // attempt 20 is capped
	ds := sample(t, e, 20)
	lo, hi := ds[0], ds[0]
	for _, d := range ds {
		require.GreaterOrEqual(t, d, base/2)
		require.Less(t, d, base)
		lo, hi = min(lo, d), max(hi, d)
	}
	mean, cv := stats(ds)
	assert.InEpsilon(t, float64(base)*0.75, mean, 0.02)
	assert.Greater(t, cv, 0.15, "uniform on [d/2, d) has CV 0.19")
	assert.Less(t, lo, base/2+base/100)
	assert.Greater(t, hi, base*99/100)
}

func TestJitterDefaultIsEqual(t *testing.T) {
	e := policy.Exponential{Rand: policy.NewRand(3)}
	for _, d := range sample(t, e, 1) {
		require.GreaterOrEqual(t, d, 500*time.Millisecond)
		require.Less(t, d, time.Second)
	}
}

func TestJitterDecorrelatedStaysWithinBounds(t *testing.T) {
	initial, maxd := 100*time.Millisecond, 10*time.Second
	e := policy.Exponential{Initial: initial, Max: maxd, Jitter: policy.JitterDecorrelated, Rand: policy.NewRand(4)}
	ds := make([]time.Duration, draws)
	var prev time.Duration
	for i := range ds {
		d := mustDelay(t, e.Next(policy.RetryContext{Attempt: i + 1, PrevDelay: prev}))
		require.GreaterOrEqual(t, d, initial)
		require.LessOrEqual(t, d, maxd)
		ds[i], prev = d, d
	}
	_, cv := stats(ds)
	assert.Greater(t, cv, 0.3, "decorrelated delays wander over the window")
	assert.Greater(t, slices.Max(ds), maxd*9/10, "it reaches the cap")
	assert.Less(t, slices.Min(ds), initial*2, "and falls back near the floor")

	// The first delay (no previous) is within [Initial, 3*Initial).
	for range 1000 {
		d := mustDelay(t, e.Next(policy.RetryContext{Attempt: 1}))
		require.GreaterOrEqual(t, d, initial)
		require.Less(t, d, 3*initial)
	}
	// A previous delay above Max (raised by Retry-After) keeps it within Max.
	d := mustDelay(t, e.Next(policy.RetryContext{Attempt: 9, PrevDelay: time.Hour}))
	assert.LessOrEqual(t, d, maxd)
}

func TestJitterSameSeedSameSequence(t *testing.T) {
	a := policy.Exponential{Jitter: policy.JitterFull, Rand: policy.NewRand(7)}
	b := policy.Exponential{Jitter: policy.JitterFull, Rand: policy.NewRand(7)}
	c := policy.Exponential{Jitter: policy.JitterFull, Rand: policy.NewRand(8)}
	da, db, dc := delays(t, a, 20), delays(t, b, 20), delays(t, c, 20)
	assert.Equal(t, da, db)
	assert.NotEqual(t, da, dc)
}

func TestJitterDefaultSourceSpreadsClients(t *testing.T) {
	// The process-wide source: 1000 clients asking for attempt 1 at once do
	// not all get the same delay.
	seen := map[time.Duration]bool{}
	for range 1000 {
		seen[mustDelay(t, policy.Exponential{}.Next(policy.RetryContext{Attempt: 1}))] = true
	}
	assert.Greater(t, len(seen), 900)
}

func TestJitterFaultyRandIsClamped(t *testing.T) {
	for _, v := range []float64{-1, 1, 2, math.NaN(), math.Inf(1)} {
		for _, j := range []policy.Jitter{policy.JitterFull, policy.JitterEqual, policy.JitterDecorrelated} {
			e := policy.Exponential{Jitter: j, Rand: stubRand(v)}
			for _, n := range []int{1, 5, 50} {
				d := mustDelay(t, e.Next(policy.RetryContext{Attempt: n, PrevDelay: time.Second}))
				assert.GreaterOrEqual(t, d, time.Duration(0), "rand %v jitter %v", v, j)
				assert.LessOrEqual(t, d, policy.DefaultMax, "rand %v jitter %v", v, j)
			}
		}
	}
}
