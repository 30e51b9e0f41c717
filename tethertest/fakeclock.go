package tethertest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/tether-go/tether/clock"
)

// FakeClock is a [clock.Clock] whose time moves only when a test calls
// [FakeClock.Step] or [FakeClock.StepToNext]. All its methods, and those of
// its timers, are safe for concurrent use, and none blocks except
// [FakeClock.BlockUntil] and [FakeClock.Settle].
//
// Timers made with AfterFunc run their function on a new goroutine when they
// fire, as real ones do; the step does not wait for it to return, and Settle
// does. Channel timers have a buffer of one, so firing never blocks the
// goroutine that steps the clock.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	armed   []*fakeTimer  // active timers, unordered
	running int           // AfterFunc functions a step started that have not returned
	changed chan struct{} // closed and replaced whenever armed or running changes
}

// NewFakeClock returns a fake clock that reads start, with no timer armed.
// A zero start means 2026-01-01T00:00:00Z, so traces in tests are stable.
func NewFakeClock(start time.Time) *FakeClock {
	if start.IsZero() {
		start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return &FakeClock{now: start, changed: make(chan struct{})}
}

var _ clock.Clock = (*FakeClock)(nil)

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since returns the fake time elapsed since t.
func (c *FakeClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// NewTimer arms a channel timer that fires once d has been stepped through
// (at once on the next Step, for d <= 0). Its channel has a buffer of one:
// a tick not read before the next is dropped. Stop and Reset discard an
// unread tick, so none is read after them.
func (c *FakeClock) NewTimer(d time.Duration) clock.Timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.arm(t, d)
	c.mu.Unlock()
	return t
}

// AfterFunc arms a timer that calls f on its own goroutine once d has been
// stepped through. Step does not wait for f to run or return; Settle
// waits for it to return.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := &fakeTimer{c: c, fn: f}
	c.mu.Lock()
	c.arm(t, d)
	c.mu.Unlock()
	return t
}

// Step moves time forward by d and fires, in deadline order, every timer that
// falls due. Time reads each timer's deadline while it fires. It does not
// block: channel sends never wait, and AfterFunc functions run on their own
// goroutines; a call they make on the clock waits until Step has returned,
// so they see the time Step reached.
func (c *FakeClock) Step(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.fireUntil(target)
	c.now = target
	c.mu.Unlock()
}

// StepToNext moves time to the earliest armed deadline, fires what is due
// there, and returns how far time moved. It returns false when no timer is
// armed, and then time does not move.
func (c *FakeClock) StepToNext() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next, ok := c.earliest()
	if !ok {
		return 0, false
	}
	d := max(next.Sub(c.now), 0)
	c.fireUntil(next)
	c.now = next
	return d, true
}

// Waiters returns how many timers are armed (not yet fired nor stopped).
func (c *FakeClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.armed)
}

// Pending returns the time left until each armed timer fires, shortest first.
func (c *FakeClock) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Duration, 0, len(c.armed))
	for _, t := range c.armed {
		out = append(out, t.when.Sub(c.now))
	}
	slices.Sort(out)
	return out
}

// BlockUntil waits until at least n timers are armed, or ctx ends, in which
// case it returns the ctx error. It never sleeps: it wakes on every change to
// the set of armed timers.
func (c *FakeClock) BlockUntil(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		count, changed := len(c.armed), c.changed
		c.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Settle waits until every AfterFunc function that a step has started has
// returned, or ctx ends, in which case it returns the ctx error. Call it
// between a step and a look at what the code under test did when its timer
// fired: without it the look races the function, and a loop that steps
// until something has happened may step once more, past it, into the next
// timer the function armed. A function that waits for the test itself
// holds Settle until ctx ends. It never sleeps.
func (c *FakeClock) Settle(ctx context.Context) error {
	for {
		c.mu.Lock()
		running, changed := c.running, c.changed
		c.mu.Unlock()
		if running == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// returned records that an AfterFunc function a step started returned.
func (c *FakeClock) returned() {
	c.mu.Lock()
	c.running--
	c.notify()
	c.mu.Unlock()
}

// arm adds t with a deadline d from now. c.mu is held.
func (c *FakeClock) arm(t *fakeTimer, d time.Duration) {
	c.seq++
	t.when, t.seq, t.active = c.now.Add(d), c.seq, true
	c.armed = append(c.armed, t)
	c.notify()
}

// disarm removes t if armed and reports whether it was. c.mu is held.
func (c *FakeClock) disarm(t *fakeTimer) bool {
	if !t.active {
		return false
	}
	t.active = false
	c.armed = slices.DeleteFunc(c.armed, func(x *fakeTimer) bool { return x == t })
	c.notify()
	return true
}

func (c *FakeClock) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *FakeClock) earliest() (time.Time, bool) {
	if len(c.armed) == 0 {
		return time.Time{}, false
	}
	best := c.armed[0]
	for _, t := range c.armed[1:] {
		if t.before(best) {
			best = t
		}
	}
	return best.when, true
}

// fireUntil fires every timer due at or before target, in deadline order
// (ties in the order they were armed). c.mu is held.
func (c *FakeClock) fireUntil(target time.Time) {
	for {
		var due *fakeTimer
		for _, t := range c.armed {
			if !t.when.After(target) && (due == nil || t.before(due)) {
				due = t
			}
		}
		if due == nil {
			return
		}
		c.disarm(due)
		if due.when.After(c.now) {
			c.now = due.when
		}
		if fn := due.fn; fn != nil {
			c.running++
			go func() {
				defer c.returned()
				fn()
			}()
			continue
		}
		select { // buffer of one: drop if the last tick is still unread
		case due.ch <- c.now:
		default:
		}
	}
}

type fakeTimer struct {
	c      *FakeClock
	ch     chan time.Time
	fn     func()
	when   time.Time
	seq    uint64
	active bool
}

func (t *fakeTimer) before(o *fakeTimer) bool {
	if t.when.Equal(o.when) {
		return t.seq < o.seq
	}
	return t.when.Before(o.when)
}

// C returns the channel a NewTimer timer fires on; nil for AfterFunc.
func (t *fakeTimer) C() <-chan time.Time { return t.ch }

// Stop disarms the timer and discards an unread tick. It reports whether the
// timer was armed; an AfterFunc whose function has started is not waited for.
func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drain()
	return t.c.disarm(t)
}

// Reset discards an unread tick and arms the timer again, d from the fake
// now. It reports whether the timer was armed.
func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drain()
	was := t.c.disarm(t)
	t.c.arm(t, d)
	return was
}

// drain empties the channel so no stale tick is read after Stop or Reset.
func (t *fakeTimer) drain() {
	if t.ch == nil {
		return
	}
	select {
	case <-t.ch:
	default:
	}
}
