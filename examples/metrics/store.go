package main

import (
	"sync"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
)

// System is the data of a "system" envelope.
type System struct {
	Seq uint64  `json:"seq"`
	CPU float64 `json:"cpu"`
	Mem float64 `json:"mem"`
}

// Process is the data of a "process" envelope.
type Process struct {
	Seq uint64 `json:"seq"`
	PID int    `json:"pid"`
	RSS uint64 `json:"rss"`
}

// Custom is the data of a "custom" envelope.
type Custom struct {
	Seq   uint64  `json:"seq"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Connection is what one open connection delivered: the Open transition
// that started it (its Transport says "websocket" or "polling") and the
// sequence numbers of the metrics it carried, in arrival order.
type Connection struct {
	Open fsm.Transition
	Seqs []uint64
}

// store is the seed's metrics store: the latest value of each kind, plus
// the bookkeeping that lets the client resume after its last sequence
// number. Its handlers run on the client's reader goroutine; OnOpen runs
// on the callback goroutine before the first message of its connection.
type store struct {
	out *printer

	mu      sync.Mutex
	system  System
	process Process
	custom  map[string]float64
	last    uint64       // last sequence number seen, on any connection
	conns   []Connection // one per open connection, in order
	notify  chan struct{}
}

func newStore(out *printer) *store {
	return &store{out: out, custom: make(map[string]float64), notify: make(chan struct{}, 1)}
}

// route registers the store's typed handlers on r.
func (s *store) route(r *stream.Router) {
	stream.Handle(r, "system", func(m stream.Message[System]) {
		s.record(m.Data.Seq, func() { s.system = m.Data })
		s.out.printf("metric", "#%-3d system   cpu=%.2f mem=%.2f", m.Data.Seq, m.Data.CPU, m.Data.Mem)
	})
	stream.Handle(r, "process", func(m stream.Message[Process]) {
		s.record(m.Data.Seq, func() { s.process = m.Data })
		s.out.printf("metric", "#%-3d process  pid=%d rss=%d", m.Data.Seq, m.Data.PID, m.Data.RSS)
	})
	stream.Handle(r, "custom", func(m stream.Message[Custom]) {
		s.record(m.Data.Seq, func() { s.custom[m.Data.Name] = m.Data.Value })
		s.out.printf("metric", "#%-3d custom   %s=%g", m.Data.Seq, m.Data.Name, m.Data.Value)
	})
}

// opened starts the bookkeeping of a new connection (OnOpen).
func (s *store) opened(tr fsm.Transition) {
	s.mu.Lock()
	s.conns = append(s.conns, Connection{Open: tr})
	s.mu.Unlock()
	s.wake()
}

func (s *store) record(seq uint64, apply func()) {
	s.mu.Lock()
	apply()
	s.last = seq
	if n := len(s.conns); n > 0 {
		s.conns[n-1].Seqs = append(s.conns[n-1].Seqs, seq)
	}
	s.mu.Unlock()
	s.wake()
}

func (s *store) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// lastSeq returns the last sequence number seen: where to resume.
func (s *store) lastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// current returns the index of the latest connection and a copy of it.
func (s *store) current() (int, Connection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.conns)
	if n == 0 {
		return -1, Connection{}
	}
	c := s.conns[n-1]
	c.Seqs = append([]uint64(nil), c.Seqs...)
	return n - 1, c
}

// connections returns a copy of every connection's bookkeeping.
func (s *store) connections() []Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Connection, len(s.conns))
	for i, c := range s.conns {
		out[i] = Connection{Open: c.Open, Seqs: append([]uint64(nil), c.Seqs...)}
	}
	return out
}
