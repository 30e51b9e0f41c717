package clock

import "time"

// Clock tells the time and arms timers. Implementations are safe for
// concurrent use by any number of goroutines.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Since returns the time elapsed since t.
	Since(t time.Time) time.Duration
	// NewTimer returns a timer that sends the current time on its channel
	// once d has elapsed.
	NewTimer(d time.Duration) Timer
	// AfterFunc returns a timer that calls f on its own goroutine once d has
	// elapsed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a single-shot timer armed by a [Clock].
//
// Stop and Reset may be called from any goroutine. As with [time.Timer] since
// Go 1.23, after Stop or Reset returns no stale value is received from C.
type Timer interface {
	// C is the channel the time is sent on. It is nil for timers made by
	// AfterFunc.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether the call
	// stopped the timer (false if it had already fired or been stopped).
	Stop() bool
	// Reset re-arms the timer to fire after d. It reports whether the timer
	// had been active.
	Reset(d time.Duration) bool
}

// Real returns the clock of the operating system.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                  { return time.Now() }
func (realClock) Since(t time.Time) time.Duration { return time.Since(t) }

func (realClock) NewTimer(d time.Duration) Timer {
	return realTimer{t: time.NewTimer(d)}
}

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{t: time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// OrReal returns c, or the real clock when c is nil. Options structs use it to
// fill their default.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real()
	}
	return c
}
