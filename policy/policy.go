package policy

import (
	"errors"
	"math"
	"time"
)

// Policy is a strategy (the delays) composed with the rules and caps around
// it: HTTP-status and close-code rules, Retry-After, an attempt cap, an
// elapsed-time cap, and the minimum uptime that resets the attempt count.
// It implements [Reconnect].
//
// Build one with [New] or [Default]; the zero Policy (and a nil *Policy)
// behaves like Default. A Policy is immutable and keeps no state, so one
// value may serve any number of connections concurrently.
type Policy struct {
	strategy Reconnect
	o        options
}

var _ Reconnect = (*Policy)(nil)

// New composes strategy with opts. A nil strategy means the default
// [Exponential]. New validates the strategy (when it has a Validate() error
// method, as every strategy here does) and the options, and reports the
// first problem as a [*ConfigError].
func New(strategy Reconnect, opts ...Option) (*Policy, error) {
	if strategy == nil {
		strategy = Exponential{}
	}
	if v, ok := strategy.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return &Policy{strategy: strategy, o: o}, nil
}

// Default returns the default policy: exponential backoff from 1 s by 1.6
// up to 30 s with equal jitter, no attempt or elapsed cap, a minimum uptime
// of 5 s, the default close-code and HTTP-status rules, Retry-After honoured
// up to 5 min. docs/reconnect.md justifies each number.
func Default() *Policy {
	return &Policy{strategy: Exponential{}, o: defaultOptions()}
}

// MinUptime returns how long a connection must stay open for its loss to
// start a fresh streak. Safe for concurrent use.
func (p *Policy) MinUptime() time.Duration {
	if p == nil || p.strategy == nil {
		return DefaultMinUptime
	}
	return p.o.minUptime
}

// Next decides for rc, in this order:
//
//  1. the HTTP-status rule for rc.HTTPStatus, then the close-code rule for
//     rc.CloseCode (skipped when 0), then the terminal errors
//     ([WithTerminalErrors]): a terminal rule stops;
//  2. the attempt cap stops attempt MaxAttempts+1;
//  3. the strategy gives the delay, or stops;
//  4. the delay is raised to the floor, the largest of the rules' MinDelay
//     and Retry-After (clipped to MaxRetryAfter), spread upward by the floor
//     spread so a fleet does not return in one instant;
//  5. the elapsed cap stops when the attempt would start after MaxElapsed.
//
// Rules come first so the reason names the real cause: a 404 is reported as
// a terminal status, not as an exhausted attempt count. Every stop carries a
// [*StopError].
//
// Safe for concurrent use; the adapter calls it once per attempt.
func (p *Policy) Next(rc RetryContext) Decision {
	if p == nil || p.strategy == nil {
		return Default().Next(rc)
	}
	floor, stop := p.gate(rc)
	if stop != nil {
		return Decision{Stop: true, Reason: stop}
	}
	d := p.strategy.Next(rc)
	if d.Stop {
		d.Reason = strategyStop(d.Reason, rc)
		return d
	}
	delay := max(d.Delay, 0)
	if rc.HasRetryAfter {
		floor = max(floor, min(rc.RetryAfter, p.o.maxRetryAfter))
	}
	if floor > delay {
		delay = satAdd(floor, p.spread(floor))
	}
	if p.o.maxElapsed > 0 && satAdd(rc.Elapsed, delay) > p.o.maxElapsed {
		return Decision{Stop: true, Reason: newStop(RuleMaxElapsed, ErrElapsedExceeded, rc)}
	}
	return Decision{Delay: delay}
}

// gate applies steps 1 and 2 of Next: it returns the stop the rules, the
// terminal errors or the attempt cap decide, or else the floor the rules
// set.
func (p *Policy) gate(rc RetryContext) (floor time.Duration, stop error) {
	if rc.HTTPStatus != 0 {
		rule := p.o.httpRules.Lookup(rc.HTTPStatus)
		if stop, kind := rule.stops(rc, ErrTerminalHTTPStatus); stop {
			return 0, newStop(RuleHTTPStatus, kind, rc)
		}
		floor = max(floor, rule.MinDelay)
	}
	if rc.CloseCode != 0 {
		rule := p.o.closeRules.Lookup(rc.CloseCode)
		if stop, kind := rule.stops(rc, ErrTerminalCloseCode); stop {
			return 0, newStop(RuleCloseCode, kind, rc)
		}
		floor = max(floor, rule.MinDelay)
	}
	for _, target := range p.o.terminal {
		if rc.Err != nil && errors.Is(rc.Err, target) {
			return 0, newStop(RuleError, ErrTerminalError, rc)
		}
	}
	if p.o.maxAttempts > 0 && rc.Attempt > p.o.maxAttempts {
		return 0, newStop(RuleMaxAttempts, ErrAttemptsExhausted, rc)
	}
	return floor, nil
}

// spread draws the upward spread of floor.
func (p *Policy) spread(floor time.Duration) time.Duration {
	if p.o.floorSpread == 0 {
		return 0
	}
	return clampDur(unit(p.o.rand)*p.o.floorSpread*float64(floor), 0, floor)
}

// satAdd adds two non-negative durations, saturating instead of overflowing.
func satAdd(a, b time.Duration) time.Duration {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// MinUptimeOf returns the minimum uptime r asks for: r.MinUptime() when r
// has that method (as [*Policy] does), [DefaultMinUptime] otherwise. Adapters
// use it to feed [Streak.Lost].
func MinUptimeOf(r Reconnect) time.Duration {
	if m, ok := r.(interface{ MinUptime() time.Duration }); ok {
		return m.MinUptime()
	}
	return DefaultMinUptime
}
