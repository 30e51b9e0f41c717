package stream

import (
	"context"
	"sync/atomic"
)

// Via is a subscriber option for adapters that read a subscriber as a
// channel of their own item type E instead of T: package rx uses it to make
// the queue of an Rx view a chan rxgo.Item, which rxgo.FromChannel reads
// directly, with no goroutine in between.
//
// Pass it to [Hub.Subscribe] (or anything that passes its options on, such
// as a Client's Messages), then read [Via.C]. The subscriber's queue is
// that channel from the start, with the subscriber's buffer and overflow
// policy; the values a policy evicts from it are unwrapped for the drop
// reports. The returned [Subscription] still controls the subscriber
// (Close, Done, Err, Dropped, Info), but its C is closed and its All yields
// nothing: the values go to the Via's channel.
//
// A Via serves one subscription: passing it to a second one (or in
// [WithDefaults]) makes that subscription fail with a [*ConfigError].
type Via[T, E any] struct {
	wrap   func(T) E
	unwrap func(E) T
	end    func(error) E
	used   atomic.Bool
	ch     atomic.Pointer[chan E]
}

// NewVia returns a Via that turns each value into an item with wrap, an
// item back into its value with unwrap (for drop reports), and an error
// into the item that ends the channel with end: the [ErrSlowSubscriber] of
// the [Disconnect] policy (a slot is reserved for it, so it is never lost)
// or the [*ConfigError] of refused options. None may be nil.
func NewVia[T, E any](wrap func(T) E, unwrap func(E) T, end func(error) E) *Via[T, E] {
	return &Via[T, E]{wrap: wrap, unwrap: unwrap, end: end}
}

// C returns the subscriber's channel, in publish order. It is closed when
// the subscription ends, after the values already queued (and the end item,
// if any). C returns nil until the Via was passed to a subscription.
func (v *Via[T, E]) C() <-chan E {
	if p := v.ch.Load(); p != nil {
		return *p
	}
	return nil
}

func (v *Via[T, E]) applySub(c *subConfig) { c.via = v }

// viaMember is a Via as a hub of T sees it.
type viaMember[T any] interface {
	claim() bool
	subscribe(ctx context.Context, h *Hub[T], cfg *resolved[T]) control
	viaFailer
}

// viaFailer is a Via of any type: a refused subscription ends its channel
// with the error.
type viaFailer interface{ fail(err error) }

func (v *Via[T, E]) claim() bool { return v.used.CompareAndSwap(false, true) }

// fail gives the Via a closed channel that holds end(err), unless a
// subscription already gave it one.
func (v *Via[T, E]) fail(err error) {
	ch := make(chan E, 1)
	ch <- v.end(err)
	close(ch)
	v.ch.CompareAndSwap(nil, &ch)
}

// subscribe makes the subscriber, a channel queue of E, and joins it to h.
func (v *Via[T, E]) subscribe(ctx context.Context, h *Hub[T], cfg *resolved[T]) control {
	var endItem func(error) E
	if cfg.overflow == Disconnect {
		endItem = v.end
	}
	var q *queue[T, E]
	h.join(cfg, func() {
		q = newQueue(h, *cfg, v.wrap, v.unwrap, endItem, true)
		h.attach(ctx, q)
	})
	v.ch.Store(&q.ch)
	return q
}
