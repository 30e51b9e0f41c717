package stream

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// member is one subscriber as the hub sees it.
type member[T any] interface {
	// blocks reports whether a publisher waits for this subscriber when
	// its buffer is full (the Block policy), and that buffer.
	blocks() (buffer int, ok bool)
	deliver(v T)
	deliverBatch(vs []T)
	shutdown(err error)
	hubClose()
}

// queue is a subscriber: the values published to it that its reader has not
// taken yet, and the overflow policy applied when they fill its limit.
//
// It holds them in one of two ways. In batch mode (ch is nil, the mode of
// [Subscription.All]) they wait in items, and the reader takes all of them
// at once, so a burst costs one lock and at most one wake-up on each side
// however many values it holds. In channel mode (ch is set: [Subscription.C]
// was called, the subscriber is a [Via] (an Rx view), or it is a synchronous hand-off)
// each value is a send on ch, the channel the reader receives from. A batch
// queue turns into a channel queue when C is first called, keeping its
// values in order.
//
// Every change happens under mu, with closed checked. No goroutine ever
// waits while holding mu: a Block publisher that finds no room counts
// itself in waiters (batch mode) or sending (channel mode) and waits
// without it, so a reader, a subscriber and a closer always get mu. A
// channel is closed only when no publisher is sending on it without mu
// (the last one to leave closes it), so a send on a closed channel cannot
// happen.
type queue[T, E any] struct {
	hub    *Hub[T]
	info   SubInfo
	limit  int // values the queue may hold before its policy applies
	wrap   func(T) E
	unwrap func(E) T
	// endItem, when set, is queued into a reserved slot before a Disconnect
	// closes the channel (the Rx error item).
	endItem func(error) E
	onDrop  func(T)
	hubDrop func(SubInfo, T)

	done    chan struct{} // closed when the subscriber ends, after err is set
	once    sync.Once
	err     error
	dropped atomic.Uint64
	// byHub says the hub's Close ended the subscriber (set before done is
	// closed): a value it can no longer take is then a drop, since the
	// subscriber did not choose to leave.
	byHub atomic.Bool

	mu     sync.Mutex
	closed bool // no value is queued any more; the reader drains the rest

	// Batch mode. pre holds values that go ahead of items and do not count
	// against the limit: the initial values, and values a reader took and
	// gave back.
	pre      []T
	items    []T
	sleepers int           // readers waiting on wake
	wake     chan struct{} // one slot; closed when the queue closes or turns into a channel
	waiters  int           // Block publishers waiting on room
	room     chan struct{} // one slot; closed when the queue turns into a channel

	// Channel mode. chp points at ch once set, so that C reads it without
	// mu.
	ch       chan E
	chp      atomic.Pointer[chan E]
	chCap    int  // values ch may hold before the policy applies, beyond extra
	extra    int  // the first values sent on ch, which do not count against chCap; 0 once all were received
	sent     int  // values sent on ch so far
	sending  int  // Block publishers (and the feeder) sending on ch without mu
	chClosed bool // ch is closed
	// feeding is closed when the feeder goroutine of a synchronous hand-off
	// with initial values has handed them all over; nil otherwise.
	feeding chan struct{}

	// The context.AfterFunc registration has its own lock, so that
	// releasing it never waits for a publisher.
	stopMu   sync.Mutex
	released bool
	stop     func() bool
}

// newQueue makes a subscriber queue. Subscribers of E other than T (a Via,
// such as an Rx view) and synchronous hand-offs start in channel mode; the rest in batch
// mode. initial values are queued first, beyond the limit.
func newQueue[T, E any](h *Hub[T], cfg resolved[T], wrap func(T) E, unwrap func(E) T, endItem func(error) E, chanMode bool) *queue[T, E] {
	q := &queue[T, E]{
		hub: h,
		info: SubInfo{
			ID:       h.ids.Add(1),
			Name:     cfg.name,
			Overflow: cfg.overflow,
			Buffer:   cfg.buffer,
		},
		limit:   cfg.buffer,
		wrap:    wrap,
		unwrap:  unwrap,
		endItem: endItem,
		onDrop:  cfg.onDrop,
		hubDrop: h.onDrop,
		done:    make(chan struct{}),
	}
	switch {
	case cfg.buffer == 0 && len(cfg.initial) > 0:
		// A synchronous hand-off has no room to hold the initial values:
		// a feeder hands them over one by one, as a waiting publisher
		// would, and publishers wait until it has.
		q.makeChannel(0, 0)
		q.feeding = make(chan struct{})
		q.sending++
		go q.feed(slices.Clone(cfg.initial))
	case chanMode || cfg.buffer == 0:
		q.makeChannel(q.limit, len(cfg.initial))
		for _, v := range cfg.initial {
			q.ch <- q.wrap(v)
		}
		q.sent = len(cfg.initial)
	default:
		q.wake = make(chan struct{}, 1)
		q.room = make(chan struct{}, 1)
		// The reader gets pre's backing array, so it must not be shared
		// with the option or another subscriber.
		q.pre = slices.Clone(cfg.initial)
	}
	return q
}

// makeChannel sets ch, with room for n counted values after extra
// uncounted ones, and the reserved slot.
func (q *queue[T, E]) makeChannel(n, extra int) {
	capacity := n + extra
	if q.endItem != nil {
		capacity++
	}
	q.ch = make(chan E, capacity)
	q.chCap = n
	q.extra = extra
	q.chp.Store(&q.ch)
}

// feed hands the initial values of a synchronous hand-off over, then lets
// the publishers in. It runs on its own goroutine, counted in sending, and
// ends when the values are received or the subscriber ends.
func (q *queue[T, E]) feed(vs []T) {
	var lost []T
	for i, v := range vs {
		select {
		case q.ch <- q.wrap(v):
			continue
		case <-q.done:
			lost = q.leftBy(vs[i:], nil)
		case <-q.hub.unblocked:
			lost = vs[i:]
		}
		break
	}
	q.mu.Lock()
	q.sending--
	close(q.feeding)
	q.feeding = nil
	q.closeChanLocked()
	q.mu.Unlock()
	for _, v := range lost {
		q.drop(v)
	}
}

// toChannel switches a batch queue to channel mode, moving what it holds
// into the channel in order. mu is held.
func (q *queue[T, E]) toChannel() {
	q.makeChannel(max(q.limit, len(q.items)), len(q.pre))
	for _, v := range q.pre {
		q.ch <- q.wrap(v)
	}
	for _, v := range q.items {
		q.ch <- q.wrap(v)
	}
	q.sent = len(q.pre) + len(q.items)
	q.pre, q.items = nil, nil
	q.closeChanLocked()
	// Readers waiting for values and publishers waiting for room look
	// again, and find the channel.
	if q.wake != nil { // nil once the queue closed
		close(q.wake)
	}
	close(q.room)
	q.wake, q.room = nil, nil
}

// capLocked returns how many values ch may hold before the policy applies:
// chCap, plus the uncounted first values that the reader has not received
// yet. mu is held.
func (q *queue[T, E]) capLocked() int {
	if q.extra == 0 {
		return q.chCap
	}
	// A send made without mu is counted in sent only afterwards, so left
	// may be too high for a moment, never too low.
	left := q.extra - (q.sent - len(q.ch))
	if left <= 0 {
		q.extra = 0
		return q.chCap
	}
	return q.chCap + left
}

// closeChanLocked closes ch once the queue is closed and no publisher is
// sending on it without mu. mu is held.
func (q *queue[T, E]) closeChanLocked() {
	if q.closed && q.sending == 0 && q.ch != nil && !q.chClosed {
		close(q.ch)
		q.chClosed = true
	}
}

// signal wakes one goroutine waiting on ch, if waiting says there is one:
// the woken one counts itself out. The slot keeps one wake-up for a
// goroutine that is about to wait. mu is held.
func signal(waiting int, ch chan struct{}) {
	if waiting > 0 && ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (q *queue[T, E]) blocks() (int, bool) { return q.limit, q.info.Overflow == Block }

// deliver queues v; see deliverBatch.
func (q *queue[T, E]) deliver(v T) {
	one := [1]T{v}
	q.deliverBatch(one[:])
}

// deliverBatch queues vs in order, applying the overflow policy to the
// values that do not fit. It is called by Publish, from any goroutine. It
// does not keep vs.
func (q *queue[T, E]) deliverBatch(vs []T) {
	var lostBuf [1]T
	lost := lostBuf[:0] // dropped values, reported once mu is released
	q.mu.Lock()
	for len(vs) > 0 && !q.closed {
		if q.ch != nil {
			vs, lost = q.sendLocked(vs, lost)
			if len(vs) > 0 && !q.closed {
				vs, lost = q.sendWaiting(vs, lost) // Block
			}
			continue
		}
		room := q.limit - len(q.items)
		if room >= len(vs) {
			q.items = append(q.items, vs...)
			vs = nil
			break
		}
		room = max(room, 0)
		q.items = append(q.items, vs[:room]...)
		vs = vs[room:]
		switch q.info.Overflow {
		case Block:
			signal(q.sleepers, q.wake)
			room := q.room
			q.waiters++
			q.mu.Unlock()
			select {
			case <-room:
			case <-q.done:
				// The subscriber went away while we waited.
				lost, vs = q.leftBy(vs, lost), nil
			case <-q.hub.unblocked:
				lost = append(lost, vs...)
				vs = nil
			}
			q.mu.Lock()
			q.waiters--
		case DropNewest:
			lost = append(lost, vs...)
			vs = nil
		case DropOldest:
			// Keep the newest limit values of queued and arriving. The
			// survivors move to the front of the backing array, so a
			// queue that overflows on every publish allocates nothing.
			// Values in pre are not evicted: they were never counted.
			excess := min(len(q.items)+len(vs)-q.limit, len(q.items))
			lost = append(lost, q.items[:excess]...)
			n := copy(q.items, q.items[excess:])
			clear(q.items[n:])
			q.items = q.items[:n]
			if k := len(q.items) + len(vs) - q.limit; k > 0 {
				lost = append(lost, vs[:k]...) // more arrived than fit at all
				vs = vs[k:]
			}
			q.items = append(q.items, vs...)
			vs = nil
		case Disconnect:
			lost = append(lost, vs...)
			vs = nil
			q.disconnectLocked()
		}
	}
	lost = q.leftBy(vs, lost) // what the subscriber ended before it could be queued
	if len(q.items) > 0 {
		signal(q.sleepers, q.wake)
	}
	q.mu.Unlock()
	for _, v := range lost {
		q.drop(v)
	}
}

// sendLocked queues vs on the channel, value by value, until one does not
// fit; it returns what is left to deliver (for a Block publisher to wait
// with) and the values lost so far. mu is held, the queue is open.
func (q *queue[T, E]) sendLocked(vs, lost []T) ([]T, []T) {
	for len(vs) > 0 {
		if q.feeding != nil {
			return vs, lost // the initial values go first
		}
		if len(q.ch) < q.capLocked() {
			select {
			case q.ch <- q.wrap(vs[0]):
				q.sent++
				vs = vs[1:]
				continue
			default: // a Block publisher sending without mu took the slot
			}
		}
		switch q.info.Overflow {
		case Block:
			return vs, lost
		case DropNewest:
			return nil, append(lost, vs...)
		case DropOldest:
			// Only Block publishers send without mu, so once one value
			// is out there is room for the next.
			select {
			case old := <-q.ch:
				lost = append(lost, q.unwrap(old))
			default: // the reader emptied it meanwhile
			}
			q.ch <- q.wrap(vs[0])
			q.sent++
			vs = vs[1:]
		case Disconnect:
			if q.endItem != nil {
				q.ch <- q.endItem(ErrSlowSubscriber) // the reserved slot
			}
			q.disconnectLocked()
			return nil, append(lost, vs...)
		}
	}
	return nil, lost
}

// sendWaiting sends vs[0] for a Block publisher, waiting without mu until
// the channel has room, the feeder is done, the subscriber ends or the hub
// unblocks. It returns what is left to deliver and the values lost. mu is
// held on entry and on return.
func (q *queue[T, E]) sendWaiting(vs, lost []T) ([]T, []T) {
	ch, feeding := q.ch, q.feeding
	q.sending++
	q.mu.Unlock()
	sent := false
	if feeding != nil {
		select {
		case <-feeding: // look again
		case <-q.done:
			lost, vs = q.leftBy(vs, lost), nil // the subscriber went away
		case <-q.hub.unblocked:
			lost, vs = append(lost, vs...), nil
		}
	} else {
		select {
		case ch <- q.wrap(vs[0]):
			sent = true
		case <-q.done:
			lost, vs = q.leftBy(vs, lost), nil
		case <-q.hub.unblocked:
			lost, vs = append(lost, vs...), nil
		}
	}
	q.mu.Lock()
	q.sending--
	if sent {
		q.sent++
		vs = vs[1:]
	}
	q.closeChanLocked()
	return vs, lost
}

// disconnectLocked ends the subscriber with ErrSlowSubscriber. mu is held.
func (q *queue[T, E]) disconnectLocked() {
	if q.begin(ErrSlowSubscriber) {
		q.hub.remove(q)
		close(q.done)
		defer q.release()
	}
	q.closeLocked()
}

// take returns every value queued in batch mode, oldest first, waiting
// until there is one. It returns ok false once the queue is closed and
// empty, and switched true (with no values) when the queue turned into a
// channel queue meanwhile. spare is an emptied batch the reader gives back,
// so that a steady stream reuses two backing arrays.
func (q *queue[T, E]) take(spare []T) (vs []T, ok, switched bool) {
	q.mu.Lock()
	for {
		switch {
		case q.ch != nil:
			q.mu.Unlock()
			return nil, false, true
		case len(q.pre) > 0:
			vs = append(q.pre, q.items...)
			q.pre = nil
			clear(q.items)
			q.items = q.items[:0]
			signal(q.waiters, q.room)
			q.mu.Unlock()
			return vs, true, false
		case len(q.items) > 0:
			vs = q.items
			q.items = spare[:0]
			signal(q.waiters, q.room)
			q.mu.Unlock()
			return vs, true, false
		case q.closed:
			q.mu.Unlock()
			return nil, false, false
		}
		wake := q.wake
		q.sleepers++
		q.mu.Unlock()
		<-wake
		q.mu.Lock()
		q.sleepers--
	}
}

// channel returns the channel of a channel-mode queue, switching a batch
// queue to channel mode first.
func (q *queue[T, E]) channel() chan E {
	if p := q.chp.Load(); p != nil {
		return *p
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ch == nil {
		q.toChannel()
	}
	return q.ch
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
	if q.hub != nil {
		if f := q.hub.owner.Load(); f != nil {
			(*f)(q.info)
		}
	}
}

// shutdown closes the subscriber with err (nil for a normal close). It is
// idempotent and may be called from any goroutine, including the
// context.AfterFunc one and a drop callback.
//
// Order matters: the hub forgets q first (so Len is exact once Done is
// closed), then done is closed (releasing a waiting Block publisher), then
// the queue is closed under mu.
func (q *queue[T, E]) shutdown(err error) { q.end(err, false) }

// hubClose ends the subscriber for the hub's Close. A value published to
// it afterwards, by a publisher that found it before the close, is dropped
// and reported: the subscriber did not choose to leave. A subscriber that
// had already ended by itself stays as it was.
func (q *queue[T, E]) hubClose() { q.end(nil, true) }

// leftBy returns lost, with vs added when the hub's Close ended the
// subscriber before vs could be queued: then they are drops. A subscriber
// that left by itself (its Close, its context, the Disconnect policy) is
// not owed them, as after unsubscribing.
func (q *queue[T, E]) leftBy(vs, lost []T) []T {
	if len(vs) > 0 && q.byHub.Load() {
		return append(lost, vs...)
	}
	return lost
}

// end is shutdown; byHub says the hub's Close ends the subscriber.
func (q *queue[T, E]) end(err error, byHub bool) {
	if !q.begin(err) {
		return
	}
	if byHub {
		q.byHub.Store(true) // before done is closed: a waiting publisher sees it
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

// closeLocked closes the queue once: the reader drains what is queued and
// then sees the end. mu is held.
func (q *queue[T, E]) closeLocked() {
	if q.closed {
		return
	}
	q.closed = true
	q.closeChanLocked()
	if q.wake != nil {
		close(q.wake) // every reader looks again and finds the end
		q.wake = nil
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

// putBack returns values a reader took but did not use (it broke out of its
// loop) to the front of the queue, so the next read gets them first; like
// the initial values, they do not count against the limit. vs is the tail
// of the reader's batch, which it no longer uses. If C turned the queue
// into a channel meanwhile, they cannot go ahead of what the channel holds:
// they are dropped and reported.
func (q *queue[T, E]) putBack(vs []T) {
	if len(vs) == 0 {
		return
	}
	q.mu.Lock()
	if q.ch != nil {
		q.mu.Unlock()
		for _, v := range vs {
			q.drop(v)
		}
		return
	}
	q.pre = append(vs[:len(vs):len(vs)], q.pre...)
	signal(q.sleepers, q.wake) // another reader may be waiting
	q.mu.Unlock()
}
