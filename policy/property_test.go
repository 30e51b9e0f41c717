package policy_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

var allJitters = []policy.Jitter{policy.JitterDefault, policy.JitterNone, policy.JitterFull, policy.JitterEqual, policy.JitterDecorrelated}

// genExponential draws a valid Exponential with a seeded source.
func genExponential(t *rapid.T) policy.Exponential {
	initial := time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(time.Minute)).Draw(t, "initial"))
	return policy.Exponential{
		Initial:    initial,
		Max:        initial + time.Duration(rapid.Int64Range(0, int64(time.Hour)).Draw(t, "extra")),
		Multiplier: rapid.Float64Range(1, 10).Draw(t, "multiplier"),
		Jitter:     rapid.SampledFrom(allJitters).Draw(t, "jitter"),
		Rand:       policy.NewRand(rapid.Uint64().Draw(t, "seed")),
	}
}

// genContext draws a retry context with any mix of signals.
func genContext(t *rapid.T) policy.RetryContext {
	rc := policy.RetryContext{
		Attempt:               rapid.IntRange(math.MinInt32, math.MaxInt32).Draw(t, "attempt"),
		Elapsed:               time.Duration(rapid.Int64Range(0, int64(24*time.Hour)).Draw(t, "elapsed")),
		PrevDelay:             time.Duration(rapid.Int64Range(0, int64(2*time.Hour)).Draw(t, "prev")),
		CloseCode:             transport.StatusCode(rapid.OneOf(rapid.Just(uint16(0)), rapid.Uint16Range(999, 5001), rapid.Uint16()).Draw(t, "close")),
		HTTPStatus:            rapid.OneOf(rapid.Just(0), rapid.IntRange(100, 600)).Draw(t, "status"),
		HasRetryAfter:         rapid.Bool().Draw(t, "hasRetryAfter"),
		CanRefreshCredentials: rapid.Bool().Draw(t, "canRefresh"),
	}
	if rc.HasRetryAfter {
		rc.RetryAfter = time.Duration(rapid.Int64Range(0, int64(24*time.Hour)).Draw(t, "retryAfter"))
	}
	return rc
}

// ruleStops says independently of Policy whether a rule stops rc.
func ruleStops(rule policy.Rule, rc policy.RetryContext) bool {
	return rule.Action == policy.Terminal || (rule.Action == policy.RetryWithCredentials && !rc.CanRefreshCredentials)
}

func TestPropertyExponentialBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genExponential(t)
		rc := genContext(t)
		d := e.Next(rc)
		if d.Stop {
			t.Fatalf("a valid Exponential stopped: %v", d.Reason)
		}
		if d.Delay < 0 || d.Delay > e.Max {
			t.Fatalf("delay %v outside [0, %v]", d.Delay, e.Max)
		}
		if e.Jitter == policy.JitterDecorrelated && d.Delay < e.Initial {
			t.Fatalf("decorrelated delay %v below Initial %v", d.Delay, e.Initial)
		}
	})
}

func TestPropertyPolicyStopsOnlyByRule(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genExponential(t)
		maxAttempts := rapid.IntRange(0, 50).Draw(t, "maxAttempts")
		p, err := policy.New(e, policy.WithMaxAttempts(maxAttempts), policy.WithRand(policy.NewRand(1)))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		rc := genContext(t)
		d := p.Next(rc)

		httpRule, closeRule := policy.DefaultHTTPRules().Lookup(rc.HTTPStatus), policy.DefaultCloseRules().Lookup(rc.CloseCode)
		httpStops := rc.HTTPStatus != 0 && ruleStops(httpRule, rc)
		closeStops := rc.CloseCode != 0 && ruleStops(closeRule, rc)
		capStops := maxAttempts > 0 && rc.Attempt > maxAttempts
		want := httpStops || closeStops || capStops
		if d.Stop != want {
			t.Fatalf("stop=%v, want %v (http %v, close %v, cap %v): %v", d.Stop, want, httpStops, closeStops, capStops, d.Reason)
		}
		if d.Stop {
			var se *policy.StopError
			if !errors.As(d.Reason, &se) {
				t.Fatalf("reason %T is not a *StopError", d.Reason)
			}
			switch {
			case httpStops && !errors.Is(se, policy.ErrTerminalHTTPStatus),
				!httpStops && closeStops && !errors.Is(se, policy.ErrTerminalCloseCode),
				!httpStops && !closeStops && !errors.Is(se, policy.ErrAttemptsExhausted):
				t.Fatalf("wrong reason %v", se)
			}
			return
		}
		// Never negative, never above Max unless a floor demands more.
		var floor time.Duration
		if rc.HTTPStatus != 0 {
			floor = max(floor, httpRule.MinDelay)
		}
		if rc.CloseCode != 0 {
			floor = max(floor, closeRule.MinDelay)
		}
		if rc.HasRetryAfter {
			floor = max(floor, min(rc.RetryAfter, policy.DefaultMaxRetryAfter))
		}
		ceiling := max(e.Max, floor+time.Duration(math.Ceil(float64(floor)*policy.DefaultFloorSpread)))
		if d.Delay < 0 || d.Delay > ceiling || d.Delay < floor {
			t.Fatalf("delay %v outside [%v, %v]", d.Delay, floor, ceiling)
		}
	})
}

func TestPropertyElapsedCap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxElapsed := time.Duration(rapid.Int64Range(1, int64(time.Hour)).Draw(t, "maxElapsed"))
		e := genExponential(t)
		p, err := policy.New(e, policy.WithMaxElapsed(maxElapsed))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		rc := genContext(t)
		rc.HTTPStatus, rc.CloseCode = 0, 0
		d := p.Next(rc)
		switch {
		case !d.Stop && rc.Elapsed+d.Delay > maxElapsed:
			t.Fatalf("attempt would start at %v, past the cap %v", rc.Elapsed+d.Delay, maxElapsed)
		case d.Stop && !errors.Is(d.Reason, policy.ErrElapsedExceeded):
			t.Fatalf("unexpected stop %v", d.Reason)
		case d.Stop && !rc.HasRetryAfter && rc.Elapsed+e.Max <= maxElapsed:
			t.Fatalf("stopped at %v although no delay (at most %v) could overrun %v", rc.Elapsed, e.Max, maxElapsed)
		}
	})
}
