package fsm

import (
	"context"
	"iter"
	"sync"
)

// Subscription delivers every transition, in order, on C. It starts with the
// machine's latest transition (or the Seq 0 snapshot before the first one),
// so a new subscriber always learns the current state first. A transition
// reaches subscribers after the machine's hooks have run for it, so what a
// subscriber sees, the adapters have already reacted to.
//
// Transitions are never dropped: each subscription queues what its reader
// has not yet taken, without bound, on a goroutine of its own. Read C until
// it closes, or call Close; either frees the subscription.
type Subscription struct {
	sub *subscriber
}

// C returns the channel transitions arrive on. It closes after Close, after
// the subscription's ctx ends, or after the machine is closed and every
// queued transition was delivered.
func (s *Subscription) C() <-chan Transition { return s.sub.out }

// Close unsubscribes. It is idempotent and safe from any goroutine.
// Transitions still queued are discarded.
func (s *Subscription) Close() { s.sub.stop() }

// Subscribe returns a subscription that lives until ctx ends, Close is
// called, or the machine is closed and drained.
func (m *Machine) Subscribe(ctx context.Context) *Subscription {
	s := &subscriber{
		out:    make(chan Transition),
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
	return &Subscription{sub: s}
}

// Transitions returns an iterator over transitions, starting with the
// current one, that ends when ctx ends, the loop breaks, or the machine is
// closed and drained.
func (m *Machine) Transitions(ctx context.Context) iter.Seq[Transition] {
	return func(yield func(Transition) bool) {
		s := m.Subscribe(ctx)
		defer s.Close()
		for t := range s.C() {
			if !yield(t) {
				return
			}
		}
	}
}

// finishSubscribers lets every subscriber drain and close. It runs once, in
// Close.
func (m *Machine) finishSubscribers() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drained = true
	for _, s := range m.subs {
		s.finish()
	}
	m.subs = nil
}

// publish queues tr on every live subscriber and drops stopped ones. m.mu is
// held.
func publish(subs []*subscriber, tr Transition) []*subscriber {
	live := subs[:0]
	for _, s := range subs {
		if s.push(tr) {
			live = append(live, s)
		}
	}
	clear(subs[len(live):])
	return live
}

type subscriber struct {
	out    chan Transition
	signal chan struct{} // capacity 1: "the queue changed"
	halt   chan struct{} // closed by stop
	ctx    context.Context

	mu       sync.Mutex
	queue    []Transition
	head     int
	final    bool // no more pushes: drain, then close out
	stopped  bool
	stopOnce sync.Once
}

// push queues tr and reports whether the subscriber is still live.
func (s *subscriber) push(tr Transition) bool {
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

func (s *subscriber) finish() {
	s.mu.Lock()
	s.final = true
	s.mu.Unlock()
	s.wake()
}

func (s *subscriber) stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		close(s.halt)
	})
}

func (s *subscriber) wake() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// next pops the oldest queued transition. It reports more=false when the
// queue is empty, and final=true when nothing more will be pushed.
func (s *subscriber) next() (tr Transition, more, final bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head < len(s.queue) {
		tr = s.queue[s.head]
		s.queue[s.head] = Transition{}
		s.head++
		if s.head == len(s.queue) {
			s.queue, s.head = s.queue[:0], 0
		}
		return tr, true, false
	}
	return Transition{}, false, s.final
}

func (s *subscriber) run() {
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
