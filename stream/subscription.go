package stream

import "iter"

// Subscription is one subscriber of a [Hub]: a bounded queue that Publish
// fills and the subscriber drains, read through [Subscription.C] or
// [Subscription.All].
//
// The queue is the channel C returns; no goroutine runs per subscriber.
// A Subscription is freed by Close, by the end of the context it was
// subscribed with, by [Hub.Close], or by the [Disconnect] policy. Values
// queued before the end can still be read; then C is closed.
type Subscription[T any] struct {
	q *queue[T, T]
}

// C returns the channel values arrive on, in publish order. It is closed
// when the subscription ends, after the values already queued. Only the
// subscriber's reading goroutine(s) should receive from it.
func (s *Subscription[T]) C() <-chan T { return s.q.ch }

// All returns an iterator over the values of C. It ends when the
// subscription ends and its queue is drained. Breaking out of the loop
// does not close the subscription; call Close for that. The iterator runs
// on the goroutine that ranges over it.
func (s *Subscription[T]) All() iter.Seq[T] {
	return func(yield func(T) bool) {
		for v := range s.q.ch {
			if !yield(v) {
				return
			}
		}
	}
}

// Close unsubscribes: no more values are queued and C is closed once its
// queued values are read. A Publish blocked on this subscriber (the
// [Block] policy) is released. Close is idempotent and may be called from
// any goroutine, including a drop callback.
func (s *Subscription[T]) Close() { s.q.shutdown(nil) }

// Done returns a channel that is closed as soon as the subscription ends,
// before its queue is drained. It may be used from any goroutine.
func (s *Subscription[T]) Done() <-chan struct{} { return s.q.done }

// Err returns why the subscription ended: nil while it runs and after a
// Close, the end of its context or [Hub.Close]; [ErrSlowSubscriber] after
// the [Disconnect] policy closed it; a [*ConfigError] when its options
// were refused. It may be called from any goroutine.
func (s *Subscription[T]) Err() error { return s.q.errValue() }

// Dropped returns how many values this subscriber lost to its overflow
// policy. It may be called from any goroutine.
func (s *Subscription[T]) Dropped() uint64 { return s.q.dropped.Load() }

// Info describes the subscriber as drop reports do. It may be called from
// any goroutine.
func (s *Subscription[T]) Info() SubInfo { return s.q.info }
