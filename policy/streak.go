package policy

import "time"

// Streak is the bookkeeping of one run of failed attempts, kept by the
// adapter that drives a connection, so that policies can stay stateless. It
// is a plain value: its methods return the updated copy and do nothing else.
// The zero value means no streak is running.
//
// The adapter's loop:
//
//	s = s.Lost(now, uptime, policy.MinUptimeOf(p)) // an open connection ended
//	s = s.Failed(now)                              // a dial failed
//	rc := s.Context(now, err)                      // then fill Transport, CanRefreshCredentials
//	d := p.Next(rc)
//	if !d.Stop { s = s.Retrying(d.Delay) }         // then wait d.Delay and dial
//
// To reset the backoff and retry now (network change), the adapter sets the
// streak to its zero value and dials at once.
//
// A Streak belongs to one connection's control goroutine; it is not shared.
type Streak struct {
	// Start is when the streak began; the zero time means no streak.
	Start time.Time
	// Attempts counts the attempts scheduled in this streak.
	Attempts int
	// PrevDelay is the delay given to the last scheduled attempt.
	PrevDelay time.Duration
	// Uptime is how long the last connection stayed open, 0 when the last
	// attempt never opened.
	Uptime time.Duration
}

// Active reports whether a streak is running. Like every Streak method it is
// pure; call it from the goroutine that owns the streak.
func (s Streak) Active() bool { return !s.Start.IsZero() }

// Lost records that an open connection ended at at after staying open for
// uptime. When no streak is running, or the connection stayed open at least
// minUptime, a fresh streak begins at at (the next attempt is attempt 1 and
// the backoff starts over); otherwise the connection was not stable and the
// streak goes on, so a server that accepts and drops at once still meets a
// growing backoff. Pure; from the owning goroutine.
func (s Streak) Lost(at time.Time, uptime, minUptime time.Duration) Streak {
	if !s.Active() || uptime >= minUptime {
		return Streak{Start: at, Uptime: uptime}
	}
	s.Uptime = uptime
	return s
}

// Failed records that a dial failed at at: it begins a streak when none is
// running (the first connect, or the first dial after a reset) and otherwise
// keeps the current one. Pure; from the owning goroutine.
func (s Streak) Failed(at time.Time) Streak {
	if !s.Active() {
		return Streak{Start: at}
	}
	s.Uptime = 0
	return s
}

// Retrying records that the next attempt was scheduled after delay d. Pure;
// from the owning goroutine.
func (s Streak) Retrying(d time.Duration) Streak {
	s.Attempts++
	s.PrevDelay = d
	return s
}

// Context returns the retry context of the next attempt at now: Attempt,
// Elapsed, PrevDelay and Uptime from the streak, the error fields from err
// (see [RetryContext.WithError]). The adapter adds Transport and
// CanRefreshCredentials. Pure; from the owning goroutine.
func (s Streak) Context(now time.Time, err error) RetryContext {
	rc := RetryContext{
		Attempt:   s.Attempts + 1,
		PrevDelay: s.PrevDelay,
		Uptime:    s.Uptime,
	}
	if s.Active() {
		rc.Elapsed = max(now.Sub(s.Start), 0)
	}
	return rc.WithError(err, now)
}
