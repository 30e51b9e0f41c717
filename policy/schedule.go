package policy

import (
	"math"
	"slices"
	"time"
)

// Schedule is a fixed table of delays: attempt n waits Delays[n-1]. Past the
// end it repeats the last delay when Repeat is set, and stops with
// [ErrScheduleExhausted] otherwise. This is the model of SignalR
// ([SignalR]) and Phoenix ([Phoenix]).
//
// Spread, in [0, 1], randomises each delay d uniformly within
// (d*(1-Spread), d], so a fleet on the same table does not come back in
// lockstep. The presets keep it 0 to stay faithful to their origin.
//
// A Schedule holds no state: safe for concurrent use as long as Rand is.
// Do not modify Delays after handing the value to a connection.
type Schedule struct {
	// Delays is the table, at least one entry, none negative.
	Delays []time.Duration
	// Repeat repeats the last delay forever instead of stopping.
	Repeat bool
	// Spread is the fraction of each delay that is randomised, 0 for none.
	Spread float64
	// Rand is the random source for Spread; nil means the process-wide one.
	Rand Rand
}

// Constant waits d before every attempt and never stops: a one-entry
// repeating [Schedule]. d may be 0 (retry at once).
func Constant(d time.Duration) Schedule {
	return Schedule{Delays: []time.Duration{d}, Repeat: true}
}

// SignalR returns the schedule of the SignalR client's automatic reconnect:
// 0, 2 s, 10 s, 30 s, then stop.
func SignalR() Schedule {
	return Schedule{Delays: []time.Duration{0, 2 * time.Second, 10 * time.Second, 30 * time.Second}}
}

// Phoenix returns the schedule of the Phoenix JS socket's reconnectAfterMs:
// 10, 50, 100, 150, 200, 250, 500, 1000, 2000 ms, then 5 s forever.
func Phoenix() Schedule {
	ms := time.Millisecond
	return Schedule{
		Delays: []time.Duration{10 * ms, 50 * ms, 100 * ms, 150 * ms, 200 * ms, 250 * ms, 500 * ms, 1000 * ms, 2000 * ms, 5000 * ms},
		Repeat: true,
	}
}

// Validate reports the first bad parameter as a [*ConfigError]. Safe from any
// goroutine.
func (s Schedule) Validate() error {
	if len(s.Delays) == 0 {
		return configErr("Schedule.Delays", s.Delays, "needs at least one delay")
	}
	if i := slices.IndexFunc(s.Delays, func(d time.Duration) bool { return d < 0 }); i >= 0 {
		return configErr("Schedule.Delays", s.Delays[i], "delays must not be negative")
	}
	if !(s.Spread >= 0 && s.Spread <= 1) {
		return configErr("Schedule.Spread", s.Spread, "must be within [0, 1]")
	}
	return nil
}

// Next returns the scheduled delay for rc.Attempt (below 1 counts as 1), or
// stops with [ErrScheduleExhausted] past the end of a non-repeating table.
// Safe for concurrent use.
func (s Schedule) Next(rc RetryContext) Decision {
	d, stop := s.entry(rc)
	if stop != nil {
		return Decision{Stop: true, Reason: stop}
	}
	if s.Spread > 0 && d > 0 {
		d -= time.Duration(math.Round(unit(s.Rand) * s.Spread * float64(d)))
	}
	return Decision{Delay: d}
}

// entry returns the table's delay for rc.Attempt, before the spread, or
// why there is none.
func (s Schedule) entry(rc RetryContext) (time.Duration, error) {
	if err := s.Validate(); err != nil {
		return 0, newStop(RuleConfig, err, rc)
	}
	i := max(rc.Attempt, 1) - 1
	if i >= len(s.Delays) {
		if !s.Repeat {
			return 0, newStop(RuleSchedule, ErrScheduleExhausted, rc)
		}
		i = len(s.Delays) - 1
	}
	return s.Delays[i], nil
}

// Never returns a strategy that never reconnects: every decision stops with
// [ErrNever].
func Never() Reconnect { return never{} }

type never struct{}

// Next stops with ErrNever. Safe for concurrent use.
func (never) Next(rc RetryContext) Decision {
	return Decision{Stop: true, Reason: newStop(RuleNever, ErrNever, rc)}
}
