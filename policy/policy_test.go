package policy_test

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// refused is a handshake refused with status and an optional Retry-After.
func refused(status int, retryAfter string) error {
	h := http.Header{}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return &transport.HandshakeError{StatusCode: status, Header: h}
}

// exact is a policy without randomness: no jitter, no floor spread.
func exact(t *testing.T, opts ...policy.Option) *policy.Policy {
	t.Helper()
	p, err := policy.New(policy.Exponential{Jitter: policy.JitterNone}, append([]policy.Option{policy.WithFloorSpread(0)}, opts...)...)
	require.NoError(t, err)
	return p
}

func TestDefaultPolicy(t *testing.T) {
	p := policy.Default()
	assert.Equal(t, policy.DefaultMinUptime, p.MinUptime())
	for n := 1; n <= 200; n++ {
		d := mustDelay(t, p.Next(policy.RetryContext{Attempt: n, Elapsed: time.Duration(n) * time.Hour}))
		assert.GreaterOrEqual(t, d, 500*time.Millisecond, "equal jitter keeps half the delay")
		assert.Less(t, d, policy.DefaultMax)
	}
}

func TestNewNilStrategyIsDefaultExponential(t *testing.T) {
	p, err := policy.New(nil, nil, policy.WithFloorSpread(0))
	require.NoError(t, err)
	d := mustDelay(t, p.Next(policy.RetryContext{Attempt: 1}))
	assert.GreaterOrEqual(t, d, 500*time.Millisecond)
	assert.Less(t, d, time.Second)
}

func TestMaxAttempts(t *testing.T) {
	p := exact(t, policy.WithMaxAttempts(3))
	assert.Equal(t, []time.Duration{time.Second, 1600 * time.Millisecond, 2560 * time.Millisecond}, delays(t, p, 3))
	refused := errors.New("dial refused")
	se := mustStop(t, p.Next(policy.RetryContext{Attempt: 4, Err: refused}), policy.RuleMaxAttempts)
	assert.ErrorIs(t, se, policy.ErrAttemptsExhausted)
	assert.Equal(t, 4, se.Attempt)
	assert.Same(t, refused, se.Err)

	assert.Equal(t, time.Second, mustDelay(t, exact(t).Next(policy.RetryContext{Attempt: 1})))
	assert.Equal(t, 30*time.Second, mustDelay(t, exact(t).Next(policy.RetryContext{Attempt: 1_000_000})), "no cap by default")
}

func TestMaxElapsed(t *testing.T) {
	p := exact(t, policy.WithMaxElapsed(time.Minute))
	// Attempt 1 waits 1 s: fine at 59 s, refused at 59.5 s and past the cap.
	assert.Equal(t, time.Second, mustDelay(t, p.Next(policy.RetryContext{Attempt: 1, Elapsed: 59 * time.Second})))
	for _, el := range []time.Duration{59500 * time.Millisecond, time.Minute + 1, time.Hour} {
		se := mustStop(t, p.Next(policy.RetryContext{Attempt: 1, Elapsed: el}), policy.RuleMaxElapsed)
		assert.ErrorIs(t, se, policy.ErrElapsedExceeded)
		assert.Equal(t, el, se.Elapsed)
	}
	// A Retry-After that would carry the attempt past the cap stops now.
	rc := policy.RetryContext{Attempt: 1, Elapsed: 30 * time.Second}.WithError(refused(503, "45"), now)
	mustStop(t, p.Next(rc), policy.RuleMaxElapsed)
}

func TestRetryAfterHonoured(t *testing.T) {
	for _, status := range []int{429, 503} {
		rc := policy.RetryContext{Attempt: 1}.WithError(refused(status, "7"), now)
		require.True(t, rc.HasRetryAfter)

		assert.Equal(t, 7*time.Second, mustDelay(t, exact(t).Next(rc)), "HTTP %d", status)

		spread := policy.Default() // equal jitter, floor spread 0.2
		for range 1000 {
			d := mustDelay(t, spread.Next(rc))
			require.GreaterOrEqual(t, d, 7*time.Second)
			require.Less(t, d, 8400*time.Millisecond)
		}
	}
}

func TestRetryAfterSpreadSeparatesClients(t *testing.T) {
	p, err := policy.New(nil, policy.WithRand(policy.NewRand(9)))
	require.NoError(t, err)
	rc := policy.RetryContext{Attempt: 1}.WithError(refused(503, "30"), now)
	ds := make([]time.Duration, draws)
	for i := range ds {
		ds[i] = mustDelay(t, p.Next(rc))
	}
	mean, cv := stats(ds)
	assert.InEpsilon(t, float64(33*time.Second), mean, 0.02, "spread uniformly over [30 s, 36 s)")
	assert.Greater(t, cv, 0.04)
}

func TestRetryAfterVariants(t *testing.T) {
	p := exact(t)
	// Absent: the strategy's delay.
	rc := policy.RetryContext{Attempt: 1}.WithError(refused(503, ""), now)
	assert.Equal(t, time.Second, mustDelay(t, p.Next(rc)))
	// Shorter than the strategy's delay: the strategy's delay.
	rc = policy.RetryContext{Attempt: 5}.WithError(refused(429, "1"), now)
	assert.Equal(t, 6553600*time.Microsecond, mustDelay(t, p.Next(rc)))
	// An HTTP date.
	rc = policy.RetryContext{Attempt: 1}.WithError(refused(503, now.Add(90*time.Second).Format(http.TimeFormat)), now)
	assert.Equal(t, 90*time.Second, mustDelay(t, p.Next(rc)))
	// Longer than the cap: clipped.
	rc = policy.RetryContext{Attempt: 1}.WithError(refused(503, "86400"), now)
	assert.Equal(t, policy.DefaultMaxRetryAfter, mustDelay(t, p.Next(rc)))
	assert.Equal(t, time.Minute, mustDelay(t, exact(t, policy.WithMaxRetryAfter(time.Minute)).Next(rc)))
	// Given directly, on any retried error.
	rc = policy.RetryContext{Attempt: 1, RetryAfter: 12 * time.Second, HasRetryAfter: true}
	assert.Equal(t, 12*time.Second, mustDelay(t, p.Next(rc)))
	// Not honoured on a terminal status.
	rc = policy.RetryContext{Attempt: 1}.WithError(refused(404, "5"), now)
	mustStop(t, p.Next(rc), policy.RuleHTTPStatus)
}

func TestUnauthorizedNeedsCredentials(t *testing.T) {
	p := exact(t)
	for _, status := range []int{401, 403} {
		rc := policy.RetryContext{Attempt: 1}.WithError(refused(status, ""), now)
		se := mustStop(t, p.Next(rc), policy.RuleHTTPStatus)
		assert.ErrorIs(t, se, policy.ErrUnauthorized)
		assert.ErrorIs(t, se, policy.ErrTerminalHTTPStatus)
		assert.Equal(t, status, se.HTTPStatus)
		he, ok := errors.AsType[*transport.HandshakeError](se)
		require.True(t, ok)
		assert.Equal(t, status, he.StatusCode)

		rc.CanRefreshCredentials = true
		assert.Equal(t, time.Second, mustDelay(t, p.Next(rc)), "HTTP %d retries with fresh credentials", status)
	}
}

func TestTerminalAndRetriedStatuses(t *testing.T) {
	p := exact(t)
	for _, status := range []int{400, 404, 410, 501} {
		rc := policy.RetryContext{Attempt: 1, CanRefreshCredentials: true}.WithError(refused(status, ""), now)
		se := mustStop(t, p.Next(rc), policy.RuleHTTPStatus)
		assert.ErrorIs(t, se, policy.ErrTerminalHTTPStatus, "HTTP %d", status)
		assert.NotErrorIs(t, se, policy.ErrUnauthorized, "HTTP %d", status)
	}
	for _, status := range []int{408, 500, 502, 504} {
		rc := policy.RetryContext{Attempt: 2}.WithError(refused(status, ""), now)
		assert.Equal(t, 1600*time.Millisecond, mustDelay(t, p.Next(rc)), "HTTP %d", status)
	}
}

func TestHTTPRulesOverride(t *testing.T) {
	rules := policy.DefaultHTTPRules().
		With(404, 404, policy.Rule{Action: policy.Retry, MinDelay: time.Minute}).
		With(500, 599, terminal)
	p := exact(t, policy.WithHTTPRules(rules))
	assert.Equal(t, time.Minute, mustDelay(t, p.Next(policy.RetryContext{Attempt: 1, HTTPStatus: 404})))
	mustStop(t, p.Next(policy.RetryContext{Attempt: 1, HTTPStatus: 502}), policy.RuleHTTPStatus)
	// 401 is still the default.
	mustStop(t, p.Next(policy.RetryContext{Attempt: 1, HTTPStatus: 401}), policy.RuleHTTPStatus)
}

func TestCloseRulesOverride(t *testing.T) {
	p := exact(t, policy.WithCloseRules(policy.DefaultCloseRules().With(1000, 1000, terminal)))
	se := mustStop(t, p.Next(policy.RetryContext{Attempt: 1, CloseCode: 1000}), policy.RuleCloseCode)
	assert.ErrorIs(t, se, policy.ErrTerminalCloseCode)
	assert.Equal(t, time.Second, mustDelay(t, p.Next(policy.RetryContext{Attempt: 1, CloseCode: 1001})))
}

func TestWithRulesCopiesTheSlice(t *testing.T) {
	rules := policy.DefaultCloseRules()
	p := exact(t, policy.WithCloseRules(rules))
	for i := range rules.Ranges {
		rules.Ranges[i].Rule = terminal // the caller scribbles on its slice afterwards
	}
	assert.Equal(t, time.Second, mustDelay(t, p.Next(policy.RetryContext{Attempt: 1, CloseCode: 1000})))
}

func TestTryAgainLaterWaitsLonger(t *testing.T) {
	rc := policy.RetryContext{Attempt: 1}.WithError(&transport.CloseError{Code: transport.StatusTryAgainLater, Remote: true}, now)
	assert.Equal(t, policy.DefaultTryAgainLaterDelay, mustDelay(t, exact(t).Next(rc)))
	for range 1000 {
		d := mustDelay(t, policy.Default().Next(rc))
		require.GreaterOrEqual(t, d, policy.DefaultTryAgainLaterDelay)
		require.Less(t, d, policy.DefaultTryAgainLaterDelay*6/5)
	}
	// Past the floor, the strategy's delay rules.
	rc.Attempt = 9
	assert.Equal(t, 30*time.Second, mustDelay(t, exact(t).Next(rc)))
}

func TestRulesComeBeforeCaps(t *testing.T) {
	p := exact(t, policy.WithMaxAttempts(1), policy.WithMaxElapsed(time.Second))
	rc := policy.RetryContext{Attempt: 9, Elapsed: time.Hour}.WithError(refused(404, ""), now)
	se := mustStop(t, p.Next(rc), policy.RuleHTTPStatus)
	assert.NotErrorIs(t, se, policy.ErrAttemptsExhausted)
}

func TestCustomStrategyInsidePolicy(t *testing.T) {
	silent := policy.Func(func(policy.RetryContext) policy.Decision { return policy.Decision{Stop: true} })
	p, err := policy.New(silent)
	require.NoError(t, err)
	se := mustStop(t, p.Next(policy.RetryContext{Attempt: 1}), policy.RuleStrategy)
	assert.ErrorIs(t, se, policy.ErrStrategyStopped)

	// A strategy's own reason is kept, inside a *StopError that also
	// carries the last connection error, as for the package's own rules.
	own := errors.New("my reason")
	p, err = policy.New(stopWith{own})
	require.NoError(t, err)
	rc := policy.RetryContext{Attempt: 3}.WithError(refused(503, ""), now)
	se = mustStop(t, p.Next(rc), policy.RuleStrategy)
	assert.Equal(t, 3, se.Attempt)
	assert.Equal(t, 503, se.HTTPStatus)
	assert.ErrorIs(t, se, own)
	assert.ErrorIs(t, se, policy.ErrStrategyStopped)
	he, ok := errors.AsType[*transport.HandshakeError](se)
	require.True(t, ok, "the last connection error is in the chain")
	assert.Equal(t, 503, he.StatusCode)
	assert.Contains(t, se.Error(), "my reason")

	// The schedule ahead says the same.
	b, ok := p.Bounds(rc)
	require.True(t, ok)
	require.True(t, b.Stop)
	bse, ok := errors.AsType[*policy.StopError](b.Reason)
	require.True(t, ok)
	assert.Equal(t, policy.RuleStrategy, bse.Rule)
	assert.ErrorIs(t, bse, own)

	// A *StopError of the strategy's own is passed on as it is.
	mine := &policy.StopError{Rule: "mine", Kind: own}
	p, err = policy.New(policy.Func(func(policy.RetryContext) policy.Decision { return policy.Decision{Stop: true, Reason: mine} }))
	require.NoError(t, err)
	assert.Same(t, mine, p.Next(rc).Reason)
	wrapped := fmt.Errorf("context: %w", mine)
	p, err = policy.New(stopWith{wrapped})
	require.NoError(t, err)
	assert.Same(t, wrapped, p.Next(rc).Reason, "wrapped, it is still the strategy's own")

	// The last connection error given back as the reason is not said twice.
	p, err = policy.New(stopWith{rc.Err})
	require.NoError(t, err)
	se = mustStop(t, p.Next(rc), policy.RuleStrategy)
	assert.ErrorIs(t, se.Kind, policy.ErrStrategyStopped)
	assert.Equal(t, 1, strings.Count(se.Error(), "503"), se.Error())

	p, err = policy.New(fixed(-time.Second))
	require.NoError(t, err)
	assert.Equal(t, time.Duration(0), mustDelay(t, p.Next(policy.RetryContext{Attempt: 1})), "a negative delay is clamped")
}

// stopWith is a strategy, with its schedule ahead, that always stops with
// its reason.
type stopWith struct{ reason error }

func (s stopWith) Next(policy.RetryContext) policy.Decision {
	return policy.Decision{Stop: true, Reason: s.reason}
}

func (s stopWith) Bounds(policy.RetryContext) (policy.Bounds, bool) {
	return policy.Bounds{Stop: true, Reason: s.reason}, true
}

func TestNewRefusesBadOptions(t *testing.T) {
	cases := []struct {
		name  string
		opt   policy.Option
		field string
	}{
		{"negative attempts", policy.WithMaxAttempts(-1), "WithMaxAttempts"},
		{"negative elapsed", policy.WithMaxElapsed(-time.Second), "WithMaxElapsed"},
		{"negative uptime", policy.WithMinUptime(-time.Second), "WithMinUptime"},
		{"zero retry-after cap", policy.WithMaxRetryAfter(0), "WithMaxRetryAfter"},
		{"spread above 1", policy.WithFloorSpread(1.01), "WithFloorSpread"},
		{"negative spread", policy.WithFloorSpread(-0.1), "WithFloorSpread"},
		{"NaN spread", policy.WithFloorSpread(math.NaN()), "WithFloorSpread"},
		{"bad close rules", policy.WithCloseRules(policy.CloseRules{Ranges: []policy.Range[transport.StatusCode]{{From: 2, To: 1}}}), "Rules.Ranges[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := policy.New(nil, tc.opt)
			assert.Nil(t, p)
			require.ErrorIs(t, err, policy.ErrInvalidConfig)
			ce, ok := errors.AsType[*policy.ConfigError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, ce.Field)
		})
	}
}

func TestMinUptimeOf(t *testing.T) {
	assert.Equal(t, policy.DefaultMinUptime, policy.MinUptimeOf(policy.Default()))
	p, err := policy.New(nil, policy.WithMinUptime(0))
	require.NoError(t, err)
	assert.Equal(t, time.Duration(0), policy.MinUptimeOf(p))
	assert.Equal(t, policy.DefaultMinUptime, policy.MinUptimeOf(fixed(time.Second)), "a policy without the method gets the default")
}

func TestPolicySharedAcrossGoroutines(t *testing.T) {
	p := policy.Default()
	dec := policy.Exponential{Jitter: policy.JitterDecorrelated}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var prev time.Duration
			for n := 1; n <= 500; n++ {
				d := p.Next(policy.RetryContext{Attempt: n, HTTPStatus: []int{0, 503}[g%2], RetryAfter: time.Second, HasRetryAfter: g%2 == 1})
				assert.False(t, d.Stop)
				assert.LessOrEqual(t, d.Delay, policy.DefaultMax)
				dd := dec.Next(policy.RetryContext{Attempt: n, PrevDelay: prev})
				assert.LessOrEqual(t, dd.Delay, policy.DefaultMax)
				prev = dd.Delay
			}
		})
	}
	wg.Wait()
}

func TestZeroPolicyBehavesLikeDefault(t *testing.T) {
	var zero policy.Policy
	var nilPolicy *policy.Policy
	for _, p := range []*policy.Policy{&zero, nilPolicy} {
		assert.Equal(t, policy.DefaultMinUptime, p.MinUptime())
		d := mustDelay(t, p.Next(policy.RetryContext{Attempt: 1}))
		assert.GreaterOrEqual(t, d, 500*time.Millisecond)
		assert.Less(t, d, time.Second)
		se := mustStop(t, p.Next(policy.RetryContext{Attempt: 1, HTTPStatus: 404}), policy.RuleHTTPStatus)
		assert.ErrorIs(t, se, policy.ErrTerminalHTTPStatus)
		rc := policy.RetryContext{Attempt: 1}.WithError(refused(503, "7"), now)
		assert.GreaterOrEqual(t, mustDelay(t, p.Next(rc)), 7*time.Second)
	}
}
