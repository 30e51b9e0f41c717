package policy

import (
	"math"
	"time"
)

// Bounds is what a policy can tell of its decision for a context without
// making it: that it stops (Stop, with Reason), or that it waits a delay
// within [Min, Max]. Min equals Max when the delay is not random; when it
// is, the draw happens in Next and Bounds says only where it lands.
type Bounds struct {
	// Min and Max bound the delay. Ignored when Stop.
	Min, Max time.Duration
	// Stop means Next stops for this context, whatever it draws.
	Stop bool
	// Reason says why it stops, as Next's Decision would: a *StopError.
	Reason error
}

// Previewer is implemented by a [Reconnect] that can bound its decision
// for a context without making it. Every strategy of this package and
// [*Policy] implement it; a [Func] does not, and neither does a type of
// your own unless you give it the method. [PreviewOf] needs it: a policy
// that is no Previewer shows no schedule ahead.
type Previewer interface {
	// Bounds returns the bounds of Next(rc): Stop when Next surely stops,
	// otherwise an interval that holds every delay Next can return. ok is
	// false when it cannot tell (a *Policy over a strategy that is no
	// Previewer). Bounds draws no random number, keeps no state, and is as
	// safe for concurrent use as Next.
	Bounds(rc RetryContext) (b Bounds, ok bool)
}

var (
	_ Previewer = (*Policy)(nil)
	_ Previewer = Exponential{}
	_ Previewer = Schedule{}
	_ Previewer = never{}
)

// Step is one attempt of a [Preview]: its number in the streak, and the
// interval its delay will be drawn from when it is scheduled (Min equals
// Max when the delay is not random).
type Step struct {
	Attempt  int
	Min, Max time.Duration
}

// Preview is the reconnect schedule ahead of a decision: what a policy
// would do for the attempts after the one it just scheduled, should each
// of them fail too. The zero Preview says nothing: the policy could not
// tell.
type Preview struct {
	// Steps are the attempts that would follow, in order, at most as many
	// as were asked for.
	Steps []Step
	// Stop, when not nil, is why the policy would give up after the last
	// of Steps (after the scheduled attempt itself when Steps is empty):
	// the [*StopError] its Next would return, such as one matching
	// [ErrAttemptsExhausted] or [ErrScheduleExhausted]. Nil means it would
	// go on past Steps, or could tell no further.
	Stop error
}

// PreviewOf returns up to n attempts that p would make after the attempt
// rc describes, which p scheduled after delay, should each of them fail
// too. It asks p for [Bounds] (p must be a [Previewer]: otherwise, or when
// n < 1, it returns the zero Preview) with the context each attempt's
// failure would bring, assuming that:
//
//   - each attempt fails at once, when its delay is over (dialing takes no
//     time), so Elapsed grows by the least delay of each step;
//   - the failure carries nothing the rules read: no error, close code,
//     HTTP status or Retry-After. A server that answers 503 with a
//     Retry-After, or a close code whose rule sets a MinDelay, will raise
//     the delays above what the preview says, and a terminal answer will
//     stop sooner;
//   - the previous delay of each step is the largest the step before it
//     could draw, so a strategy that reads PrevDelay ([JitterDecorrelated])
//     shows the widest interval it can reach.
//
// An attempt is listed unless p would surely refuse it. Under
// [WithMaxElapsed] a listed attempt may still be refused, since the time
// dials take is not known in advance; its Max is then what is left of the
// budget. PreviewOf draws no random number and is safe for concurrent use
// when p is.
func PreviewOf(p Reconnect, rc RetryContext, delay time.Duration, n int) Preview {
	pv, ok := p.(Previewer)
	if !ok || n < 1 {
		return Preview{}
	}
	next := RetryContext{Attempt: rc.Attempt, PrevDelay: delay, Transport: rc.Transport,
		CanRefreshCredentials: rc.CanRefreshCredentials}
	elapsed := satAdd(max(rc.Elapsed, 0), max(delay, 0))
	out := Preview{Steps: make([]Step, 0, min(n, 16))}
	for len(out.Steps) < n {
		next.Attempt++
		next.Elapsed = elapsed
		b, ok := pv.Bounds(next)
		if !ok {
			break
		}
		if b.Stop {
			out.Stop = b.Reason
			break
		}
		out.Steps = append(out.Steps, Step{Attempt: next.Attempt, Min: b.Min, Max: b.Max})
		next.PrevDelay = b.Max
		elapsed = satAdd(elapsed, b.Min)
	}
	if len(out.Steps) == 0 {
		out.Steps = nil
	}
	return out
}

// Bounds bounds Next(rc), in the same order as Next: the rules, the
// attempt cap and the terminal errors stop for sure; then the strategy's
// bounds (not ok when the strategy is no [Previewer]), raised to the floor
// and its spread; then the elapsed cap stops for sure when even the least
// delay would start the attempt too late, and otherwise caps Max at what
// is left (a larger draw would stop). Safe for concurrent use.
func (p *Policy) Bounds(rc RetryContext) (Bounds, bool) {
	if p == nil || p.strategy == nil {
		return Default().Bounds(rc)
	}
	pv, ok := p.strategy.(Previewer)
	if !ok {
		return Bounds{}, false
	}
	floor, stop := p.gate(rc)
	if stop != nil {
		return Bounds{Stop: true, Reason: stop}, true
	}
	b, ok := pv.Bounds(rc)
	if !ok {
		return Bounds{}, false
	}
	if b.Stop {
		b.Reason = strategyStop(b.Reason, rc)
		return b, true
	}
	b.Min, b.Max = max(b.Min, 0), max(b.Max, b.Min, 0)
	if rc.HasRetryAfter {
		floor = max(floor, min(rc.RetryAfter, p.o.maxRetryAfter))
	}
	if floor > b.Min {
		// Draws below the floor are raised to it and spread upward.
		b.Min = floor
		b.Max = max(b.Max, satAdd(floor, p.maxSpread(floor)))
	}
	if p.o.maxElapsed > 0 {
		if satAdd(rc.Elapsed, b.Min) > p.o.maxElapsed {
			return Bounds{Stop: true, Reason: newStop(RuleMaxElapsed, ErrElapsedExceeded, rc)}, true
		}
		b.Max = min(b.Max, p.o.maxElapsed-rc.Elapsed)
	}
	return b, true
}

// maxSpread is the largest upward spread of floor (spread draws below it).
func (p *Policy) maxSpread(floor time.Duration) time.Duration {
	if p.o.floorSpread == 0 {
		return 0
	}
	return clampDur(p.o.floorSpread*float64(floor), 0, floor)
}

// Bounds bounds Next(rc): the interval the jitter draws from for
// rc.Attempt (rc.PrevDelay for [JitterDecorrelated]), or the exact delay
// with [JitterNone]. An invalid value stops, as Next does. Safe for
// concurrent use.
func (e Exponential) Bounds(rc RetryContext) (Bounds, bool) {
	c, err := e.resolve()
	if err != nil {
		return Bounds{Stop: true, Reason: newStop(RuleConfig, err, rc)}, true
	}
	lo, hi := c.span(rc)
	return Bounds{Min: lo, Max: hi}, true
}

// span is the interval delay draws from; c is resolved.
func (c Exponential) span(rc RetryContext) (lo, hi time.Duration) {
	if c.Jitter == JitterDecorrelated {
		prev := max(float64(rc.PrevDelay), float64(c.Initial))
		return c.Initial, clampDur(min(prev*decorrelatedFactor, float64(c.Max)), c.Initial, c.Max)
	}
	d := c.base(rc)
	switch c.Jitter {
	case JitterFull:
		return 0, clampDur(d, 0, c.Max)
	case JitterEqual:
		return clampDur(d/2, 0, c.Max), clampDur(d, 0, c.Max)
	}
	return clampDur(d, 0, c.Max), clampDur(d, 0, c.Max)
}

// Bounds bounds Next(rc): the table's delay for rc.Attempt, or the
// interval (d*(1-Spread), d] it is drawn from with a Spread; a stop past
// the end of a table that does not repeat, or for an invalid value. Safe
// for concurrent use.
func (s Schedule) Bounds(rc RetryContext) (Bounds, bool) {
	d, stop := s.entry(rc)
	if stop != nil {
		return Bounds{Stop: true, Reason: stop}, true
	}
	lo := d
	if s.Spread > 0 && d > 0 {
		lo -= time.Duration(math.Round(s.Spread * float64(d)))
	}
	return Bounds{Min: lo, Max: d}, true
}

// Bounds stops with [ErrNever], as Next does.
func (never) Bounds(rc RetryContext) (Bounds, bool) {
	return Bounds{Stop: true, Reason: newStop(RuleNever, ErrNever, rc)}, true
}
