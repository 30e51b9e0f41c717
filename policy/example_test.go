package policy_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

func ExampleExponential() {
	backoff := policy.Exponential{Jitter: policy.JitterNone} // defaults: 1 s, x1.6, max 30 s
	for attempt := 1; attempt <= 10; attempt++ {
		d := backoff.Next(policy.RetryContext{Attempt: attempt})
		fmt.Print(d.Delay, " ")
	}
	fmt.Println()
	// Output: 1s 1.6s 2.56s 4.096s 6.5536s 10.48576s 16.777216s 26.8435456s 30s 30s
}

func ExampleSignalR() {
	s := policy.SignalR()
	for attempt := 1; ; attempt++ {
		d := s.Next(policy.RetryContext{Attempt: attempt})
		if d.Stop {
			fmt.Printf("attempt %d: stop, schedule exhausted: %v\n", attempt, errors.Is(d.Reason, policy.ErrScheduleExhausted))
			break
		}
		fmt.Printf("attempt %d: wait %v\n", attempt, d.Delay)
	}
	// Output:
	// attempt 1: wait 0s
	// attempt 2: wait 2s
	// attempt 3: wait 10s
	// attempt 4: wait 30s
	// attempt 5: stop, schedule exhausted: true
}

func ExamplePhoenix() {
	s := policy.Phoenix()
	for _, attempt := range []int{1, 2, 9, 10, 50} {
		fmt.Printf("attempt %d: %v\n", attempt, s.Next(policy.RetryContext{Attempt: attempt}).Delay)
	}
	// Output:
	// attempt 1: 10ms
	// attempt 2: 50ms
	// attempt 9: 2s
	// attempt 10: 5s
	// attempt 50: 5s
}

func ExampleNew() {
	p, err := policy.New(
		policy.Exponential{Jitter: policy.JitterNone}, // deterministic for the example
		policy.WithMaxAttempts(10),
		policy.WithFloorSpread(0),
	)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	show := func(name string, err error, canRefresh bool) {
		rc := policy.RetryContext{Attempt: 2, CanRefreshCredentials: canRefresh}.WithError(err, now)
		d := p.Next(rc)
		var se *policy.StopError
		if errors.As(d.Reason, &se) {
			fmt.Printf("%s: stop by %s (unauthorized: %v)\n", name, se.Rule, errors.Is(se, policy.ErrUnauthorized))
			return
		}
		fmt.Printf("%s: retry in %v\n", name, d.Delay)
	}
	retryAfter := http.Header{"Retry-After": {"7"}}
	show("connection reset", io.ErrUnexpectedEOF, false)
	show("503 Retry-After 7", &transport.HandshakeError{StatusCode: 503, Header: retryAfter}, false)
	show("401", &transport.HandshakeError{StatusCode: 401}, false)
	show("401 with a token provider", &transport.HandshakeError{StatusCode: 401}, true)
	show("404", &transport.HandshakeError{StatusCode: 404}, false)
	show("close 1001", &transport.CloseError{Code: transport.StatusGoingAway, Remote: true}, false)
	show("close 1009", &transport.CloseError{Code: transport.StatusMessageTooBig, Remote: true}, false)
	show("close 4500", &transport.CloseError{Code: 4500, Remote: true}, false)
	// Output:
	// connection reset: retry in 1.6s
	// 503 Retry-After 7: retry in 7s
	// 401: stop by http-status (unauthorized: true)
	// 401 with a token provider: retry in 1.6s
	// 404: stop by http-status (unauthorized: false)
	// close 1001: retry in 1.6s
	// close 1009: stop by close-code (unauthorized: false)
	// close 4500: stop by close-code (unauthorized: false)
}

func ExampleFunc() {
	// Like SignalR's nextRetryDelay: every 2 s for a minute, then give up.
	// Wrapped in New, it keeps the close-code and HTTP-status rules, and
	// its reason becomes a *policy.StopError of rule "strategy".
	mine := policy.Func(func(rc policy.RetryContext) policy.Decision {
		if rc.Elapsed >= time.Minute {
			return policy.Decision{Stop: true, Reason: errors.New("gave up after a minute")}
		}
		return policy.Decision{Delay: 2 * time.Second}
	})
	p, err := policy.New(mine)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Next(policy.RetryContext{Attempt: 1, Elapsed: 10 * time.Second}).Delay)
	fmt.Println(p.Next(policy.RetryContext{Attempt: 9, Elapsed: 2 * time.Minute}).Reason)
	fmt.Println(p.Next(policy.RetryContext{Attempt: 1, HTTPStatus: 404}).Stop)
	// Output:
	// 2s
	// tether/policy: reconnect stopped by strategy before attempt 9: gave up after a minute
	// true
}

func ExampleRules_With() {
	// This server closes with 1000 only when the session is really over.
	rules := policy.DefaultCloseRules().With(1000, 1000, policy.Rule{Action: policy.Terminal})
	fmt.Println(rules.Lookup(1000).Action, rules.Lookup(1001).Action)
	fmt.Println(policy.DefaultCloseRules().Lookup(1000).Action)
	// Output:
	// terminal retry
	// retry
}

func ExampleStreak() {
	p, _ := policy.New(policy.Exponential{Jitter: policy.JitterNone})
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	var s policy.Streak
	s = s.Lost(clock, time.Hour, policy.MinUptimeOf(p)) // a stable connection dropped
	for range 3 {
		d := p.Next(s.Context(clock, io.EOF))
		fmt.Println("wait", d.Delay)
		s = s.Retrying(d.Delay)
		clock = clock.Add(d.Delay)
		s = s.Failed(clock) // the dial failed again
	}
	// The next dial opens, but the server drops it after 2 s: not stable.
	clock = clock.Add(2 * time.Second)
	s = s.Lost(clock, 2*time.Second, policy.MinUptimeOf(p))
	fmt.Println("attempt", s.Context(clock, io.EOF).Attempt, "wait", p.Next(s.Context(clock, io.EOF)).Delay)

	// The network changed: reset the backoff and dial at once.
	s = policy.Streak{}
	fmt.Println("active after reset:", s.Active())
	// Output:
	// wait 1s
	// wait 1.6s
	// wait 2.56s
	// attempt 4 wait 4.096s
	// active after reset: false
}

func ExampleHeartbeat_Validate() {
	h := policy.DefaultHeartbeat()
	fmt.Println(h.Interval, h.PongTimeout, h.Mode, h.Validate())

	h.PongTimeout = h.Interval // the Phoenix mistake
	var ce *policy.ConfigError
	fmt.Println(errors.As(h.Validate(), &ce), ce.Field)
	// Output:
	// 15s 10s ping-frame <nil>
	// true Heartbeat.PongTimeout
}

func ExamplePreviewOf() {
	p, _ := policy.New(policy.Exponential{Initial: time.Second, Max: 8 * time.Second, Multiplier: 2}, // equal jitter
		policy.WithMaxAttempts(5))
	// Attempt 2 was just scheduled, after a delay drawn from [1 s, 2 s).
	rc := policy.RetryContext{Attempt: 2}
	d := p.Next(rc)
	ahead := policy.PreviewOf(p, rc, d.Delay, 10)
	for _, s := range ahead.Steps {
		fmt.Printf("attempt %d: between %v and %v\n", s.Attempt, s.Min, s.Max)
	}
	fmt.Println("then gives up:", errors.Is(ahead.Stop, policy.ErrAttemptsExhausted))
	// Output:
	// attempt 3: between 2s and 4s
	// attempt 4: between 4s and 8s
	// attempt 5: between 4s and 8s
	// then gives up: true
}
