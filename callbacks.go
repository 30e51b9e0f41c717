package tether

import (
	"sync"
)

// maxCallbacks bounds the callbacks waiting to run. A callback that is slow
// (an OnError that takes a millisecond, facing a flood of undecodable
// messages) cannot make the queue grow without limit: what does not fit is
// counted and reported as a *CallbackDropError once there is room again.
const maxCallbacks = 1024

// serializer runs callbacks one at a time, in the order they were posted,
// on a goroutine that exists only while callbacks are pending: nothing runs
// while the client is quiet. Callbacks never run under the client's locks,
// so they may call any method of the client.
type serializer struct {
	// overflow, when set, is called on the serializer's goroutine, as a
	// callback of its own, with the number of callbacks dropped since the
	// last call, once the queue is no more than half full.
	overflow func(dropped uint64)

	mu      sync.Mutex
	queue   []queuedCallback
	head    int
	bounded int // callbacks in queue[head:] posted with post: the bound counts only them
	dropped uint64
	running bool
	idle    chan struct{} // closed when the queue drains; nil while idle
}

type queuedCallback struct {
	f       func()
	bounded bool
}

// post queues f; when the queue is full, f is dropped and counted.
func (s *serializer) post(f func()) { s.enqueue(f, false) }

// postAlways queues f even when the queue is full. It is for callbacks the
// client depends on (the one that lets the reader deliver after OnOpen,
// OnClose), which come at most once per connection, for OnDrop, which
// must see every drop (each is a message the program sent), and for the
// OnError of a connection's one *PossiblyLostError (at most once per
// connection, or per quarter of a record that cannot be confirmed).
func (s *serializer) postAlways(f func()) { s.enqueue(f, true) }

func (s *serializer) enqueue(f func(), always bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !always {
		if s.bounded >= maxCallbacks {
			s.dropped++
			return
		}
		s.bounded++
	}
	s.queue = append(s.queue, queuedCallback{f: f, bounded: !always})
	if !s.running {
		s.running = true
		s.idle = make(chan struct{})
		go s.drain()
	}
}

func (s *serializer) drain() {
	for {
		s.mu.Lock()
		var f func()
		switch {
		case s.dropped > 0 && s.overflow != nil && s.bounded <= maxCallbacks/2:
			n := s.dropped
			s.dropped = 0
			f = func() { s.overflow(n) }
		case s.head < len(s.queue):
			q := s.queue[s.head]
			f = q.f
			if q.bounded {
				s.bounded--
			}
			s.queue[s.head] = queuedCallback{}
			s.head++
			if s.head == len(s.queue) {
				s.queue, s.head = s.queue[:0], 0
			} else if s.head >= 64 && s.head*2 >= len(s.queue) {
				n := copy(s.queue, s.queue[s.head:])
				clear(s.queue[n:])
				s.queue, s.head = s.queue[:n], 0
			}
		default:
			s.running = false
			close(s.idle)
			s.idle = nil
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		f()
	}
}

// drained returns a channel closed once nothing is queued or running.
func (s *serializer) drained() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idle == nil {
		done := make(chan struct{})
		close(done)
		return done
	}
	return s.idle
}
