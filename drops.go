package tether

import (
	"strconv"
	"sync"
	"time"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/stream"
)

// dropInterval is how often, at most, the drops of one subscriber are
// reported after the first.
const dropInterval = time.Second

// dropKey names a subscriber across the client's three hubs.
type dropKey struct {
	stream string
	sub    stream.SubInfo
}

// dropTally aggregates the drops of subscribers that chose a dropping
// policy, so that a fast feed cannot flood the reports: per subscriber, the
// first drop is reported at once, later ones are summed and reported when
// dropInterval has passed since the previous report, and whatever is left
// is reported by flush when the client shuts down. The shutdown flushes
// at its start, before the error stream ends, and (finish) once the
// readers are done; the drops in between (a burst the reader was handing
// to subscribers that Close ended) are summed for the next flush, and
// after finish each is reported at once.
type dropTally struct {
	clk    clock.Clock
	report func(*SubscriberDropError)

	mu      sync.Mutex
	last    map[dropKey]time.Time // when each subscriber's drops were last reported
	pending map[dropKey]uint64    // drops not reported yet
	timer   clock.Timer           // armed while pending holds drops
	wg      sync.WaitGroup        // the timer's callback
	stopped bool                  // flush was called: drops are summed for the next flush
	final   bool                  // finish was called: every drop is reported at once
}

// routeStream names the routed hub of message type typ in drop reports:
// route "price".
func routeStream(typ string) string { return "route " + strconv.Quote(typ) }

// hook returns the OnAnyDrop hook of the hub named name.
func hook[T any](d *dropTally, name string) func(stream.SubInfo, T) {
	return func(sub stream.SubInfo, _ T) { d.add(dropKey{name, sub}) }
}

// add counts one drop; it runs on the publishing goroutine.
func (d *dropTally) add(k dropKey) {
	now := d.clk.Now()
	d.mu.Lock()
	last, seen := d.last[k]
	if d.last == nil {
		d.last, d.pending = make(map[dropKey]time.Time), make(map[dropKey]uint64)
	}
	if d.stopped && !d.final {
		d.pending[k]++ // for the next flush; no timer
		d.mu.Unlock()
		return
	}
	if d.final || !seen || now.Sub(last) >= dropInterval {
		n := d.pending[k] + 1
		delete(d.pending, k)
		d.last[k] = now
		d.mu.Unlock()
		d.report(&SubscriberDropError{Stream: k.stream, Subscriber: k.sub, Count: n})
		return
	}
	d.pending[k]++
	if d.timer == nil {
		d.wg.Add(1)
		d.timer = d.clk.AfterFunc(last.Add(dropInterval).Sub(now), d.tick)
	}
	d.mu.Unlock()
}

// tick reports the drops whose interval has passed, and arms itself again
// for the others.
func (d *dropTally) tick() {
	defer d.wg.Done()
	now := d.clk.Now()
	d.mu.Lock()
	d.timer = nil
	if d.stopped {
		d.mu.Unlock()
		return
	}
	var due []*SubscriberDropError
	next := time.Duration(-1)
	for k, n := range d.pending {
		wait := d.last[k].Add(dropInterval).Sub(now)
		if wait <= 0 {
			due = append(due, &SubscriberDropError{Stream: k.stream, Subscriber: k.sub, Count: n})
			delete(d.pending, k)
			d.last[k] = now
			continue
		}
		if next < 0 || wait < next {
			next = wait
		}
	}
	if next >= 0 {
		d.wg.Add(1)
		d.timer = d.clk.AfterFunc(next, d.tick)
	}
	d.mu.Unlock()
	for _, e := range due {
		d.report(e)
	}
}

// flush stops the timer and reports every drop not reported yet; from
// then on, drops are summed for the next flush. It waits for a running
// tick.
func (d *dropTally) flush() {
	d.mu.Lock()
	d.stopped = true
	if d.timer != nil && d.timer.Stop() {
		d.wg.Done()
	}
	d.timer = nil
	pending := d.pending
	d.pending = make(map[dropKey]uint64)
	d.mu.Unlock()
	d.wg.Wait()
	for k, n := range pending {
		d.report(&SubscriberDropError{Stream: k.stream, Subscriber: k.sub, Count: n})
	}
}

// finish reports every drop not reported yet, as flush does, and from
// then on each drop at once.
func (d *dropTally) finish() {
	d.mu.Lock()
	d.final = true
	d.mu.Unlock()
	d.flush()
}

// reportDrop reports an aggregated subscriber drop: to the logger, on the
// error stream (unless the drops are the error stream's own, which would
// feed on themselves) and to OnError.
func (c *Client[T]) reportDrop(e *SubscriberDropError) {
	c.stats.subDrops.Add(e.Count)
	if l := c.cfg.logger; l != nil {
		l.Warn("tether subscriber dropped values", "stream", e.Stream, "subscriber", e.Subscriber.String(),
			"count", e.Count, "err", error(e))
	}
	if e.Stream != "errors" {
		c.errs.Publish(e)
	}
	if f := c.cfg.onError; f != nil {
		c.cb.postAlways(func() { f(e) })
	}
}

// reportInboundDrop reports inbound messages that reached no consumer: to
// the logger, on the error stream until Close, and to OnError (never
// dropped itself, like the other drop reports).
func (c *Client[T]) reportInboundDrop(e *InboundDropError) {
	c.stats.inDrops.Add(e.Count)
	if l := c.cfg.logger; l != nil {
		l.Warn("tether inbound messages dropped", "count", e.Count, "err", error(e))
	}
	if !c.stopped() {
		// After Close the error stream is ending (docs/streams.md: it does
		// not get these reports); publishing into its end made a
		// subscriber count the report as its own drop.
		c.errs.Publish(e)
	}
	if f := c.cfg.onError; f != nil {
		c.cb.postAlways(func() { f(e) })
	}
}

// callbacksDropped reports callbacks the full queue could not take. It
// runs on the callbacks' goroutine, as a callback of its own.
func (c *Client[T]) callbacksDropped(n uint64) {
	e := &CallbackDropError{Count: n}
	if l := c.cfg.logger; l != nil {
		l.Warn("tether callbacks dropped", "count", n, "err", error(e))
	}
	c.errs.Publish(e)
	if f := c.cfg.onError; f != nil {
		f(e) // already on the callbacks' goroutine
	}
}
