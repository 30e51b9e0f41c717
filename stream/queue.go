package stream

import (
	"context"
	"sync"
	"sync/atomic"
)

// member is one subscriber as the hub sees it.
type member[T any] interface {
	deliver(v T)
	shutdown(err error)
}

// queue is a subscriber: a buffered channel of E (T itself, or rxgo.Item
// for an Rx view) that is the queue the reader drains, and the overflow
// policy applied when it is full.
//
// Every send to ch and the close of ch happen under mu with closed checked,
// so a send on a closed channel cannot happen. A Block sender waits under
// mu in a select that also watches done, which shutdown closes before it
// takes mu, so closing never deadlocks behind a blocked publisher.
type queue[T, E any] struct {
	hub    *Hub[T]
	info   SubInfo
	ch     chan E
	limit  int // values of T the queue may hold; cap(ch) is limit+1 when an end item is reserved
	wrap   func(T) E
	unwrap func(E) T
	// endItem, when set, is queued into the reserved slot before a
	// Disconnect closes the channel (the Rx error item).
	endItem func(error) E
	onDrop  func(T)
	hubDrop func(SubInfo, T)

	done    chan struct{} // closed when the subscriber ends, after err is set
	once    sync.Once
	err     error
	dropped atomic.Uint64

	mu     sync.Mutex // held by deliver for a whole send, even a blocked one
	closed bool

	// The context.AfterFunc registration has its own lock: the subscribing
	// goroutine must never wait for mu, which a Block publisher may hold
	// until that very goroutine reads.
	stopMu   sync.Mutex
	released bool
	stop     func() bool
}

func newQueue[T, E any](h *Hub[T], cfg subConfig, onDrop func(T), wrap func(T) E, unwrap func(E) T, endItem func(error) E) *queue[T, E] {
	capacity := cfg.buffer
	if endItem != nil {
		capacity++
	}
	return &queue[T, E]{
		hub: h,
		info: SubInfo{
			ID:       h.ids.Add(1),
			Name:     cfg.name,
			Overflow: cfg.overflow,
			Buffer:   cfg.buffer,
		},
		ch:      make(chan E, capacity),
		limit:   cfg.buffer,
		wrap:    wrap,
		unwrap:  unwrap,
		endItem: endItem,
		onDrop:  onDrop,
		hubDrop: h.onDrop,
		done:    make(chan struct{}),
	}
}

// deliver queues v, applying the overflow policy when the queue is full.
// It is called by Publish, from any goroutine.
func (q *queue[T, E]) deliver(v T) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	e := q.wrap(v)
	// Only publishers (serialised by mu) add to ch and the reader only takes
	// from it, so len below limit means the send cannot block.
	if len(q.ch) < q.limit {
		q.ch <- e
		q.mu.Unlock()
		return
	}
	switch q.info.Overflow {
	case Block:
		select {
		case q.ch <- e:
		case <-q.done:
			// The subscriber went away while we waited: like a publish
			// after unsubscribing, not a drop.
		}
		q.mu.Unlock()
	case DropNewest:
		q.mu.Unlock()
		q.drop(v)
	case DropOldest:
		var old E
		took := false
		select {
		case old = <-q.ch:
			took = true
		default: // the reader emptied it meanwhile
		}
		sent := true
		select {
		case q.ch <- e:
		default: // cannot happen: mu keeps other publishers out
			sent = false
		}
		q.mu.Unlock()
		if took {
			q.drop(q.unwrap(old))
		}
		if !sent {
			q.drop(v)
		}
	case Disconnect:
		if q.endItem != nil {
			q.ch <- q.endItem(ErrSlowSubscriber) // the reserved slot
		}
		if q.begin(ErrSlowSubscriber) {
			q.hub.remove(q)
			close(q.done)
		}
		q.closeLocked()
		q.mu.Unlock()
		q.release()
		q.drop(v)
	}
}

// drop counts and reports one lost value. mu is not held.
func (q *queue[T, E]) drop(v T) {
	q.dropped.Add(1)
	if q.onDrop != nil {
		q.onDrop(v)
	}
	if q.hubDrop != nil {
		q.hubDrop(q.info, v)
	}
}

// shutdown closes the subscriber with err (nil for a normal close). It is
// idempotent and may be called from any goroutine, including the
// context.AfterFunc one and a drop callback.
//
// Order matters: the hub forgets q first (so Len is exact once Done is
// closed), then done is closed (releasing a Block publisher that holds mu),
// then ch is closed under mu.
func (q *queue[T, E]) shutdown(err error) {
	if !q.begin(err) {
		return
	}
	q.hub.remove(q)
	close(q.done)
	q.mu.Lock()
	q.closeLocked()
	q.mu.Unlock()
	q.release()
}

// begin records err as the reason the subscriber ends and reports whether
// this call is the first to end it.
func (q *queue[T, E]) begin(err error) bool {
	first := false
	q.once.Do(func() {
		q.err = err
		first = true
	})
	return first
}

// closeLocked closes ch once. mu is held.
func (q *queue[T, E]) closeLocked() {
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}

// watch makes the end of ctx close q. It runs after q joined the hub.
func (q *queue[T, E]) watch(ctx context.Context) {
	if ctx.Done() == nil {
		return // never cancelled
	}
	stop := context.AfterFunc(ctx, func() { q.shutdown(nil) })
	q.stopMu.Lock()
	if q.released {
		q.stopMu.Unlock()
		stop()
		return
	}
	q.stop = stop
	q.stopMu.Unlock()
}

// release drops the context registration of an ended subscriber.
func (q *queue[T, E]) release() {
	q.stopMu.Lock()
	q.released = true
	stop := q.stop
	q.stop = nil
	q.stopMu.Unlock()
	if stop != nil {
		stop()
	}
}

// errValue returns the error the subscriber ended with, nil while it runs.
func (q *queue[T, E]) errValue() error {
	select {
	case <-q.done:
		return q.err
	default:
		return nil
	}
}
