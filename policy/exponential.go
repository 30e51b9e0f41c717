package policy

import (
	"math"
	"time"
)

// Defaults of [Exponential]. Initial and Multiplier are gRPC's; Max is a
// quarter of gRPC's 120 s, because a live feed that stays stale for two
// minutes after its server came back is a bug to its users. See
// docs/reconnect.md for the comparison with the other clients.
const (
	DefaultInitial    = time.Second
	DefaultMax        = 30 * time.Second
	DefaultMultiplier = 1.6
)

// decorrelatedFactor is the growth bound of [JitterDecorrelated] (AWS uses 3).
const decorrelatedFactor = 3

// Exponential is exponential backoff: attempt n waits Initial *
// Multiplier^(n-1), capped at Max, randomised by Jitter.
//
// The zero value is usable and means the defaults: Initial 1 s, Max 30 s,
// Multiplier 1.6, equal jitter, the process-wide random source. Negative
// durations, Max below Initial, a Multiplier below 1 (or NaN or infinite) and
// an unknown Jitter are refused by [Exponential.Validate]; [New] calls it, and
// Next on an invalid value stops with a [*StopError] of rule [RuleConfig].
//
// With JitterNone the sequence for the defaults is 1 s, 1.6 s, 2.56 s,
// 4.096 s, 6.5536 s, 10.48576 s, 16.777216 s, 26.8435456 s, then 30 s.
//
// An Exponential is a value without state: safe for concurrent use as long
// as Rand is.
type Exponential struct {
	// Initial is the delay before the first attempt. 0 means DefaultInitial.
	Initial time.Duration
	// Max caps every delay. 0 means DefaultMax (or Initial, if larger).
	Max time.Duration
	// Multiplier is the growth per attempt, at least 1. 0 means
	// DefaultMultiplier.
	Multiplier float64
	// Jitter is the randomisation; the zero value means JitterEqual.
	Jitter Jitter
	// Rand is the random source; nil means the process-wide one.
	Rand Rand
}

// Validate reports the first bad parameter as a [*ConfigError]. Safe from any
// goroutine.
func (e Exponential) Validate() error {
	_, err := e.resolve()
	return err
}

// resolve fills the defaults and validates.
func (e Exponential) resolve() (Exponential, error) {
	switch {
	case e.Initial < 0:
		return e, configErr("Exponential.Initial", e.Initial, "must not be negative")
	case e.Max < 0:
		return e, configErr("Exponential.Max", e.Max, "must not be negative")
	case math.IsNaN(e.Multiplier) || math.IsInf(e.Multiplier, 0):
		return e, configErr("Exponential.Multiplier", e.Multiplier, "must be a finite number")
	case e.Multiplier != 0 && e.Multiplier < 1:
		return e, configErr("Exponential.Multiplier", e.Multiplier, "must be at least 1 (0 means the default)")
	case !e.Jitter.valid():
		return e, configErr("Exponential.Jitter", e.Jitter, "unknown jitter kind")
	}
	if e.Initial == 0 {
		e.Initial = DefaultInitial
	}
	if e.Max == 0 {
		e.Max = max(DefaultMax, e.Initial)
	}
	if e.Max < e.Initial {
		return e, configErr("Exponential.Max", e.Max, "must not be below Initial ("+e.Initial.String()+")")
	}
	if e.Multiplier == 0 {
		e.Multiplier = DefaultMultiplier
	}
	if e.Jitter == JitterDefault {
		e.Jitter = JitterEqual
	}
	return e, nil
}

// Next returns the delay for rc.Attempt (an Attempt below 1 counts as 1).
// It never stops unless the value is invalid. Safe for concurrent use.
func (e Exponential) Next(rc RetryContext) Decision {
	c, err := e.resolve()
	if err != nil {
		return Decision{Stop: true, Reason: newStop(RuleConfig, err, rc)}
	}
	return Decision{Delay: c.delay(rc)}
}

// delay computes the jittered delay; c is resolved.
func (c Exponential) delay(rc RetryContext) time.Duration {
	lo, hi := float64(c.Initial), float64(c.Max)
	if c.Jitter == JitterDecorrelated {
		prev := max(float64(rc.PrevDelay), lo)
		upper := min(prev*decorrelatedFactor, hi)
		return clampDur(lo+unit(c.Rand)*(upper-lo), c.Initial, c.Max)
	}
	d := c.base(rc)
	switch c.Jitter {
	case JitterFull:
		d *= unit(c.Rand)
	case JitterEqual:
		d = d/2 + unit(c.Rand)*d/2
	}
	return clampDur(d, 0, c.Max)
}

// base is the delay of rc.Attempt before the jitter, capped at Max; c is
// resolved and its jitter is not decorrelated.
func (c Exponential) base(rc RetryContext) float64 {
	n := max(rc.Attempt, 1)
	return min(float64(c.Initial)*math.Pow(c.Multiplier, float64(n-1)), float64(c.Max)) // Pow may give +Inf; min caps it
}

// clampDur converts f to the nearest Duration within [lo, hi]. Rounding
// keeps the exact sequence exact: 1.6 s * 1.6 is 2.56 s, not 2.559999999 s.
func clampDur(f float64, lo, hi time.Duration) time.Duration {
	switch {
	case !(f >= float64(lo)): // also NaN
		return lo
	case f >= float64(hi):
		return hi
	}
	return time.Duration(math.Round(f))
}
