package stream

import (
	"context"
	"iter"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
)

// Hub fans values of type T out to any number of subscribers, each with its
// own bounded queue and overflow policy. See the package documentation.
//
// The zero Hub is ready to use, with default options. A Hub must not be
// copied after first use.
type Hub[T any] struct {
	list   atomic.Pointer[memberList[T]]
	ids    atomic.Uint64
	onDrop func(SubInfo, T)
	owner  atomic.Pointer[func(SubInfo)] // told of every drop after onDrop: the router that made the hub (see Route)
	defs   []SubOption
	err    error
	cur    *current[T] // WithCurrent, or nil

	initOnce    sync.Once
	unblockOnce sync.Once
	unblocked   chan struct{} // closed by Unblock: Block publishers stop waiting
}

// memberList is an immutable snapshot of the subscribers. Publish reads the
// current one with a single atomic load; Subscribe and unsubscribe replace
// it (copy on write). closed marks the list of a closed hub. step is the
// smallest buffer among its Block subscribers (at least 1), 0 when none
// waits: PublishEach hands a batch on in steps of that size, to each
// subscriber in turn (see withMembers).
type memberList[T any] struct {
	members []member[T]
	closed  bool
	step    int
}

// withMembers returns a list of members, with its step.
func withMembers[T any](members []member[T]) *memberList[T] {
	l := &memberList[T]{members: members}
	for _, m := range members {
		if n, ok := m.blocks(); ok && (l.step == 0 || max(n, 1) < l.step) {
			l.step = max(n, 1)
		}
	}
	return l
}

// NewHub returns a hub with the given options. It never fails: a bad option
// is reported by [Hub.Err] and by every subscription.
func NewHub[T any](opts ...HubOption) *Hub[T] {
	var cfg hubConfig
	for _, o := range opts {
		if o != nil {
			o.applyHub(&cfg)
		}
	}
	h := &Hub[T]{defs: cfg.defaults, unblocked: make(chan struct{})}
	if cfg.onDrop != nil {
		f, ok := cfg.onDrop.(func(SubInfo, T))
		if !ok {
			h.err = typeMismatch("OnAnyDrop", cfg.onDrop, reflect.TypeFor[T]())
		}
		h.onDrop = f
	}
	cur, err := newCurrent[T](cfg.current)
	if err != nil && h.err == nil {
		h.err = err
	}
	h.cur = cur
	return h
}

// Err returns the [*ConfigError] NewHub found in its options, or nil. It
// may be called from any goroutine.
func (h *Hub[T]) Err() error { return h.err }

// Publish delivers v to every current subscriber, applying each one's
// overflow policy when its queue is full. It takes no hub-wide lock and
// allocates nothing. Drop callbacks run on the calling goroutine.
//
// Publish may be called from any goroutine. Values published from one
// goroutine reach each subscriber in that order; values published
// concurrently from several goroutines reach each subscriber once, in an
// order that may differ between subscribers. With the [Block] policy (the
// default), Publish waits for that subscriber; it is released when the
// subscriber reads, is closed, its context ends, the hub is closed or
// [Hub.Unblock] is called. Subscribers that never wait get v first, so a
// Block one that waits holds nothing back from them. Publishing to a
// closed hub, or with no subscribers, does nothing.
func (h *Hub[T]) Publish(v T) {
	var l *memberList[T]
	if h.cur != nil {
		l = h.cur.set(h, v)
	} else {
		l = h.list.Load()
	}
	if l == nil {
		return
	}
	if l.step == 0 { // nobody waits
		for _, m := range l.members {
			m.deliver(v)
		}
		return
	}
	// Those that never wait first, as in PublishEach.
	for _, m := range l.members {
		if _, waits := m.blocks(); !waits {
			m.deliver(v)
		}
	}
	for _, m := range l.members {
		if _, waits := m.blocks(); waits {
			m.deliver(v)
		}
	}
}

// PublishEach delivers a batch to every current subscriber, as Publish
// delivers one value, and returns how many subscribers there were. batch is
// called once per subscriber, in subscription order, with its position i
// (0 for the first), and returns the values for that subscriber, which it
// then owns: a publisher can hand the first subscriber the values it built
// and give each other one a copy, so that no two share memory. Every call
// of batch happens before any value is delivered, so the copies can be made
// from what the first subscriber receives. batch is not called when there
// is no subscriber. The hub does not keep the slices batch returns, only
// their values.
//
// Subscribers with other policies than [Block] get theirs first, at once.
// Block subscribers then get their batches in steps no larger than the
// smallest Block buffer (at least 1), one step to each in turn, so that one
// goroutine may read several of them in turn without the publisher waiting
// for room in one while the reader waits for another. A batch that fits costs each
// subscriber reading with [Subscription.All] one lock and at most one
// wake-up, however many values it holds. PublishEach does
// not change the hub's [WithCurrent] value.
func (h *Hub[T]) PublishEach(batch func(i int) []T) int {
	l := h.list.Load()
	if l == nil || len(l.members) == 0 {
		return 0
	}
	if len(l.members) == 1 {
		l.members[0].deliverBatch(batch(0))
		return 1
	}
	batches := make([][]T, len(l.members))
	for i := range batches {
		batches[i] = batch(i)
	}
	// Subscribers that never wait get theirs first, whole: a Block one
	// that waits, and a reader of it that hands the values on, cannot hold
	// them back, and a Close that ends the subscribers meanwhile finds
	// them served (a DropOldest subscriber after a Block one had its
	// values counted as drops after the client's error stream ended, when
	// the program read the Block one's last value and closed).
	for i, m := range l.members {
		if _, waits := m.blocks(); !waits && len(batches[i]) > 0 {
			m.deliverBatch(batches[i])
		}
	}
	// Then a Block subscriber gets its batch in steps no larger than the
	// smallest Block buffer, each subscriber one step in turn: a goroutine
	// that reads two of them in turn then never waits for one while the
	// publisher waits for room in the other.
	for off := 0; ; off += l.step {
		more := false
		for i, m := range l.members {
			b := batches[i]
			if off >= len(b) {
				continue
			}
			if _, waits := m.blocks(); !waits { // served above; l.step may be 0
				continue
			}
			end := min(off+l.step, len(b))
			m.deliverBatch(b[off:end])
			more = more || end < len(b)
		}
		if !more {
			return len(l.members)
		}
	}
}

// Unblock makes Publish stop waiting for [Block] subscribers, for good: a
// publisher waiting for room is released, and from then on a value that
// finds a Block subscriber's queue full is dropped and reported as other
// drops are. A client calls it when it shuts down, so that a subscriber
// that stopped reading cannot hold the shutdown. Idempotent; any goroutine.
func (h *Hub[T]) Unblock() {
	h.hubInit()
	h.unblockOnce.Do(func() { close(h.unblocked) })
}

// hubInit makes the channels of a zero Hub.
func (h *Hub[T]) hubInit() {
	h.initOnce.Do(func() {
		if h.unblocked == nil {
			h.unblocked = make(chan struct{})
		}
	})
}

// Subscribe returns a new subscriber with its own queue. It receives every
// value published after Subscribe returns, until it is closed: by
// [Subscription.Close], by the end of ctx, by [Hub.Close], or by the
// [Disconnect] policy. A nil ctx means context.Background.
//
// On a closed hub, or with a ctx that already ended, the subscription is
// returned already closed with a nil Err. With a bad option it is returned
// closed with a [*ConfigError] as its Err.
//
// Subscribe may be called from any goroutine.
func (h *Hub[T]) Subscribe(ctx context.Context, opts ...SubOption) *Subscription[T] {
	h.hubInit()
	cfg, err := h.subConfig(opts)
	if err != nil {
		cfg = resolved[T]{subConfig: subConfig{buffer: 1, overflow: Block}}
	}
	if err != nil {
		q := newQueue(h, cfg, identity[T], identity[T], nil, false)
		q.shutdown(err)
		for _, o := range opts {
			if v, ok := o.(viaFailer); ok {
				v.fail(err)
			}
		}
		return &Subscription[T]{q: q, c: q}
	}
	if cfg.via != nil {
		c := cfg.via.subscribe(ctx, h, &cfg)
		return &Subscription[T]{q: closedQueue(h), c: c}
	}
	var q *queue[T, T]
	h.join(&cfg, func() {
		q = newQueue(h, cfg, identity[T], identity[T], nil, false)
		h.attach(ctx, q)
	})
	return &Subscription[T]{q: q, c: q}
}

// closedQueue returns an ended queue with a closed, empty channel: what C
// and All read of a subscription whose values go to a [Via].
func closedQueue[T any](h *Hub[T]) *queue[T, T] {
	q := &queue[T, T]{hub: h, wrap: identity[T], unwrap: identity[T], done: make(chan struct{}), closed: true}
	q.makeChannel(0, 0)
	close(q.ch)
	q.chClosed = true
	close(q.done)
	return q
}

// All returns an iterator that subscribes when iteration starts, yields
// every value published from then on, and unsubscribes when the loop
// breaks, ctx ends or the hub is closed. Values still queued when ctx ends
// are yielded before the iterator returns. Each iteration is a separate
// subscriber with opts.
//
// All may be called from any goroutine; the iterator runs on the goroutine
// that ranges over it.
func (h *Hub[T]) All(ctx context.Context, opts ...SubOption) iter.Seq[T] {
	return func(yield func(T) bool) {
		s := h.Subscribe(ctx, opts...)
		defer s.Close()
		s.All()(yield)
	}
}

// Len returns the number of subscribers. It may be called from any
// goroutine.
func (h *Hub[T]) Len() int {
	l := h.list.Load()
	if l == nil {
		return 0
	}
	return len(l.members)
}

// Close closes every subscriber (their Err stays nil) and makes later
// subscriptions start closed. Values already queued can still be read from
// each [Subscription.C]. A value that a publish under way (one that found
// the subscriber before Close) can no longer queue is a drop of that
// subscriber, counted and reported like the others: the subscriber did not
// choose to leave. Close is idempotent and may be called from any
// goroutine, concurrently with Publish.
func (h *Hub[T]) Close() {
	old := h.list.Swap(&memberList[T]{closed: true})
	if old == nil {
		return
	}
	for _, m := range old.members {
		m.hubClose()
	}
}

// resolved is a subscriber's configuration with its typed parts.
type resolved[T any] struct {
	subConfig
	onDrop  func(T)
	initial []T
	via     viaMember[T] // a Via option, or nil
}

// subConfig resolves the hub defaults and opts into one configuration.
func (h *Hub[T]) subConfig(opts []SubOption) (resolved[T], error) {
	r := resolved[T]{subConfig: subConfig{buffer: DefaultBuffer, overflow: Block}}
	if h.err != nil {
		return r, h.err
	}
	for _, o := range h.defs {
		if o != nil {
			o.applySub(&r.subConfig)
		}
	}
	for _, o := range opts {
		if o != nil {
			o.applySub(&r.subConfig)
		}
	}
	if err := r.validate(); err != nil {
		return r, err
	}
	if r.initialAny != nil {
		vs, ok := r.initialAny.([]T)
		if !ok {
			return r, typeMismatch("WithInitial", r.initialAny, reflect.TypeFor[T]())
		}
		r.initial = vs
	}
	if r.subConfig.via != nil {
		v, ok := r.subConfig.via.(viaMember[T])
		if !ok {
			return r, &ConfigError{Option: "Via", Value: reflect.TypeOf(r.subConfig.via).String(),
				Problem: "item type does not convert the hub's value type " + reflect.TypeFor[T]().String()}
		}
		if !v.claim() {
			return r, &ConfigError{Option: "Via", Value: reflect.TypeOf(r.subConfig.via).String(),
				Problem: "already used by another subscription: make a Via per subscription"}
		}
		r.via = v
	}
	if r.onDropAny != nil {
		f, ok := r.onDropAny.(func(T))
		if !ok {
			return r, typeMismatch("OnDrop", r.onDropAny, reflect.TypeFor[T]())
		}
		r.onDrop = f
	}
	return r, nil
}

// attach adds m to the hub and ties it to ctx. m is closed instead when the
// hub is closed or ctx already ended.
func (h *Hub[T]) attach(ctx context.Context, m interface {
	member[T]
	watch(context.Context)
}) {
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx.Err() != nil {
		m.shutdown(nil)
		return
	}
	for {
		old := h.list.Load()
		var members []member[T]
		if old != nil {
			if old.closed {
				m.shutdown(nil)
				return
			}
			members = make([]member[T], len(old.members), len(old.members)+1)
			copy(members, old.members)
		}
		next := withMembers(append(members, m))
		if h.list.CompareAndSwap(old, next) {
			break
		}
	}
	m.watch(ctx)
}

// join runs attach, which makes a queue from cfg and attaches it, with the
// hub's current value (WithCurrent) first among cfg's initial values.
func (h *Hub[T]) join(cfg *resolved[T], attach func()) {
	if h.cur == nil {
		attach()
		return
	}
	h.cur.join(cfg, attach)
}

// remove takes m out of the hub. It is idempotent.
func (h *Hub[T]) remove(m member[T]) {
	for {
		old := h.list.Load()
		if old == nil || old.closed {
			return
		}
		i := slices.Index(old.members, m)
		if i < 0 {
			return
		}
		members := make([]member[T], 0, len(old.members)-1)
		members = append(members, old.members[:i]...)
		next := withMembers(append(members, old.members[i+1:]...))
		if h.list.CompareAndSwap(old, next) {
			return
		}
	}
}

func identity[T any](v T) T { return v }

// closed reports whether Close was called.
func (h *Hub[T]) closed() bool {
	l := h.list.Load()
	return l != nil && l.closed
}
