package tether

import (
	"sync"
	"sync/atomic"

	"github.com/tether-go/tether/internal/goid"
)

// serializer runs callbacks one at a time, in the order they were posted,
// on a goroutine that exists only while callbacks are pending: nothing runs
// while the client is quiet. Callbacks never run under the client's locks,
// so they may call any method of the client.
type serializer struct {
	mu      sync.Mutex
	queue   []func()
	running bool
	runner  atomic.Uint64 // goroutine id of the drain, 0 while idle
	idle    chan struct{} // closed when the queue drains; nil while idle
}

// post queues f.
func (s *serializer) post(f func()) {
	s.mu.Lock()
	s.queue = append(s.queue, f)
	if !s.running {
		s.running = true
		s.idle = make(chan struct{})
		go s.drain()
	}
	s.mu.Unlock()
}

func (s *serializer) drain() {
	s.runner.Store(goid.Current())
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.runner.Store(0)
			s.running = false
			close(s.idle)
			s.idle = nil
			s.mu.Unlock()
			return
		}
		f := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.mu.Unlock()
		f()
	}
}

// inCallback reports whether the caller is a callback run by s.
func (s *serializer) inCallback() bool {
	r := s.runner.Load()
	return r != 0 && r == goid.Current()
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
