package stream

import "iter"

// Subscription is one subscriber of a [Hub]: a bounded queue that Publish
// fills and the subscriber drains, read through [Subscription.All] (an
// iterator, the fastest way) or [Subscription.C] (a channel, for select).
// Read it one way: All and C take from the same queue.
//
// No goroutine runs per subscriber. A Subscription is freed by Close, by
// the end of the context it was subscribed with, by [Hub.Close], or by the
// [Disconnect] policy. Values queued before the end can still be read; then
// All returns and C is closed.
type Subscription[T any] struct {
	q *queue[T, T] // what C and All read; closed and empty under a Via
	c control      // the subscriber: q, or the queue of a Via
}

// control is a subscriber's queue, whatever its item type.
type control interface {
	shutdown(err error)
	doneChan() <-chan struct{}
	errValue() error
	droppedCount() uint64
	subInfo() SubInfo
}

// C returns the channel values arrive on, in publish order, for a reader
// that selects on it beside other channels. It is closed when the
// subscription ends, after the values already queued. Only the subscriber's
// reading goroutine(s) should receive from it.
//
// The first call turns the queue into that channel (values already queued
// move into it, in order), and from then on every value costs a channel
// send and receive. [Subscription.All] takes values in batches instead, and
// is several times cheaper per value when they arrive in bursts.
//
// Calling C inside an All loop is allowed: the loop goes on with the values
// of the batch it holds and then reads the channel. But if that loop then
// breaks, the rest of its batch cannot go ahead of what the channel already
// holds: it is dropped and reported as the overflow policy's drops are.
func (s *Subscription[T]) C() <-chan T { return s.q.channel() }

// All returns an iterator over the subscription's values, in publish order.
// It ends when the subscription ends and its queue is drained. Breaking out
// of the loop does not close the subscription; call Close for that. The
// iterator runs on the goroutine that ranges over it.
//
// All takes every queued value at once and yields them one by one, so a
// burst costs one lock and at most one wake-up, and a publisher blocked by
// a full queue ([Block]) is released as soon as the batch is taken, not
// when the loop has handled it. Values of the batch that a loop breaks out
// of are given back to the front of the queue, for the next read.
func (s *Subscription[T]) All() iter.Seq[T] {
	return func(yield func(T) bool) {
		var spare []T
		for {
			vs, ok, switched := s.q.take(spare)
			if switched {
				for v := range s.q.ch {
					if !yield(v) {
						return
					}
				}
				return
			}
			if !ok {
				return
			}
			for i, v := range vs {
				if !yield(v) {
					s.q.putBack(vs[i+1:])
					return
				}
			}
			clear(vs)
			spare = vs[:0]
		}
	}
}

// Close unsubscribes: no more values are queued and C is closed once its
// queued values are read. A Publish blocked on this subscriber (the
// [Block] policy) is released. Close is idempotent and may be called from
// any goroutine, including a drop callback.
func (s *Subscription[T]) Close() { s.c.shutdown(nil) }

// Done returns a channel that is closed as soon as the subscription ends,
// before its queue is drained. It may be used from any goroutine.
func (s *Subscription[T]) Done() <-chan struct{} { return s.c.doneChan() }

// Err returns why the subscription ended: nil while it runs and after a
// Close, the end of its context or [Hub.Close]; [ErrSlowSubscriber] after
// the [Disconnect] policy closed it; a [*ConfigError] when its options
// were refused. It may be called from any goroutine.
func (s *Subscription[T]) Err() error { return s.c.errValue() }

// Dropped returns how many values this subscriber lost to its overflow
// policy. It may be called from any goroutine.
func (s *Subscription[T]) Dropped() uint64 { return s.c.droppedCount() }

// Info describes the subscriber as drop reports do. It may be called from
// any goroutine.
func (s *Subscription[T]) Info() SubInfo { return s.c.subInfo() }

func (q *queue[T, E]) doneChan() <-chan struct{} { return q.done }
func (q *queue[T, E]) droppedCount() uint64      { return q.dropped.Load() }
func (q *queue[T, E]) subInfo() SubInfo          { return q.info }
