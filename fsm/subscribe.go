package fsm

import (
	"context"
	"iter"
	"sync"
)

// SubscriptionOf delivers every transition, in order, on C. It starts with the
// machine's latest transition (or the Seq 0 snapshot before the first one),
// so a new subscriber always learns the current state first. A transition
// reaches subscribers after the machine's hooks have run for it, so what a
// subscriber sees, the adapters have already reacted to.
//
// Transitions are never dropped: each subscription queues what its reader
// has not yet taken, without bound, on a goroutine of its own. Read C until
// it closes, or call Close; either frees the subscription.
type SubscriptionOf[S, E comparable] struct {
	sub *subscriber[S, E]
}

// Subscription is a [SubscriptionOf] of the connection lifecycle.
type Subscription = SubscriptionOf[State, Event]

// C returns the channel transitions arrive on. It closes after Close, after
// the subscription's ctx ends, or after the machine is closed and every
// queued transition was delivered.
func (s *SubscriptionOf[S, E]) C() <-chan TransitionOf[S, E] { return s.sub.out }

// Close unsubscribes. It is idempotent and safe from any goroutine.
// Transitions still queued are discarded.
func (s *SubscriptionOf[S, E]) Close() { s.sub.stop() }

// Subscribe returns a subscription that lives until ctx ends, Close is
// called, or the machine is closed and drained.
func (m *MachineOf[S, E]) Subscribe(ctx context.Context) *SubscriptionOf[S, E] {
	s := &subscriber[S, E]{
		out:    make(chan TransitionOf[S, E]),
		signal: make(chan struct{}, 1),
		halt:   make(chan struct{}),
		ctx:    ctx,
	}
	m.mu.Lock()
	s.push(m.published)
	if m.drained {
		s.finish()
	} else {
		m.subs = append(m.subs, s)
	}
	m.mu.Unlock()
	go s.run()
	return &SubscriptionOf[S, E]{sub: s}
}

// Transitions returns an iterator over transitions, starting with the
// current one, that ends when ctx ends, the loop breaks, or the machine is
// closed and drained.
func (m *MachineOf[S, E]) Transitions(ctx context.Context) iter.Seq[TransitionOf[S, E]] {
	return func(yield func(TransitionOf[S, E]) bool) {
		s := m.Subscribe(ctx)
		defer s.Close()
		for t := range s.C() {
			if !yield(t) {
				return
			}
		}
	}
}

// finishSubscribers lets every subscriber drain and close, and wakes the
// waiters. It runs once, in Close.
func (m *MachineOf[S, E]) finishSubscribers() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drained = true
	if m.changed != nil { // WaitFor gives up on a closed machine
		close(m.changed)
		m.changed = nil
	}
	for _, s := range m.subs {
		s.finish()
	}
	m.subs = nil
}

// publish queues tr on every live subscriber and drops stopped ones. m.mu is
// held.
func publish[S, E comparable](subs []*subscriber[S, E], tr TransitionOf[S, E]) []*subscriber[S, E] {
	live := subs[:0]
	for _, s := range subs {
		if s.push(tr) {
			live = append(live, s)
		}
	}
	clear(subs[len(live):])
	return live
}

type subscriber[S, E comparable] struct {
	out    chan TransitionOf[S, E]
	signal chan struct{} // capacity 1: "the queue changed"
	halt   chan struct{} // closed by stop
	ctx    context.Context

	mu       sync.Mutex
	queue    []TransitionOf[S, E]
	head     int
	final    bool // no more pushes: drain, then close out
	stopped  bool
	stopOnce sync.Once
}

// push queues tr and reports whether the subscriber is still live.
func (s *subscriber[S, E]) push(tr TransitionOf[S, E]) bool {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return false
	}
	s.queue = append(s.queue, tr)
	s.mu.Unlock()
	s.wake()
	return true
}

func (s *subscriber[S, E]) finish() {
	s.mu.Lock()
	s.final = true
	s.mu.Unlock()
	s.wake()
}

func (s *subscriber[S, E]) stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		close(s.halt)
	})
}

func (s *subscriber[S, E]) wake() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// next pops the oldest queued transition. It reports more=false when the
// queue is empty, and final=true when nothing more will be pushed.
func (s *subscriber[S, E]) next() (tr TransitionOf[S, E], more, final bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head < len(s.queue) {
		tr = s.queue[s.head]
		s.queue[s.head] = TransitionOf[S, E]{}
		s.head++
		if s.head == len(s.queue) {
			s.queue, s.head = s.queue[:0], 0
		}
		return tr, true, false
	}
	return TransitionOf[S, E]{}, false, s.final
}

func (s *subscriber[S, E]) run() {
	defer close(s.out)
	defer s.stop()
	done := s.ctx.Done()
	for {
		tr, more, final := s.next()
		if more {
			select {
			case s.out <- tr:
			case <-s.halt:
				return
			case <-done:
				return
			}
			continue
		}
		if final {
			return
		}
		select {
		case <-s.signal:
		case <-s.halt:
			return
		case <-done:
			return
		}
	}
}
