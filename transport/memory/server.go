package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/tether-go/tether/transport"
)

// Server is a scriptable in-process server. Its [Transport] dials it; each
// dial is recorded (see [Server.Dials]) and answered by the next scripted
// [Answer], or by the default answer. A dial that proceeds gives the server
// a [ServerConn] through [Server.Accept].
//
// All methods are safe for concurrent use.
type Server struct {
	opts options

	mu       sync.Mutex
	changed  chan struct{} // nil while nobody waits
	script   []Answer
	fallback Answer
	dials    []transport.Target
	pending  []*pendingConn // offered to Accept, in dial order
}

// pendingConn is a ServerConn waiting for Accept. accepted is guarded by
// Server.mu.
type pendingConn struct {
	sc       *ServerConn
	accepted bool
}

// NewServer returns a server that answers every dial with [Proceed] until
// told otherwise. Options that set up client Conns (size limit, close
// timeout, clock) apply to every Conn its transport dials. A refused option
// returns a [*ConfigError].
func NewServer(opts ...Option) (*Server, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Server{opts: o}, nil
}

// Transport returns a transport that dials this server.
//
// Safe from any goroutine.
func (s *Server) Transport() *Transport { return &Transport{srv: s} }

// Script queues answers for the next dials, one each, in order, after any
// answers already queued. Once the queue is empty, dials get the default
// answer (see [Server.SetDefault]). For example, Script(Refuse(503, nil, ""),
// Unreachable()) fails the next two dials, each its own way.
//
// Safe from any goroutine.
func (s *Server) Script(answers ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, answers...)
}

// SetDefault sets the answer for dials that find no scripted answer; it is
// [Proceed] at first. SetDefault(Refuse(...)) refuses every dial until
// SetDefault(Proceed()).
//
// Safe from any goroutine.
func (s *Server) SetDefault(a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = a
}

// Dials returns a copy of every target dialed so far, in order, refused dials
// included. A dial whose ctx had already ended is not recorded.
//
// Safe from any goroutine.
func (s *Server) Dials() []transport.Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]transport.Target, len(s.dials))
	for i, t := range s.dials {
		out[i] = cloneTarget(t)
	}
	return out
}

// WaitDials blocks until at least n dials have been recorded, or ctx ends,
// and returns a copy of them, as Dials does.
//
// Safe from any goroutine.
func (s *Server) WaitDials(ctx context.Context, n int) ([]transport.Target, error) {
	s.mu.Lock()
	for len(s.dials) < n {
		if err := ctx.Err(); err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.wait(ctx.Done())
	}
	s.mu.Unlock()
	return s.Dials(), nil
}

// Accept returns the server's end of the next dial that reached the server,
// in dial order, blocking until there is one or ctx ends. Without
// [WithAutoAccept], a dial answered with [Proceed] completes only when its
// connection is accepted here.
//
// Every dial answered with [Proceed] or [Hang] gives Accept exactly one
// ServerConn, even when the client has given up meanwhile: that one has then
// ended with [ErrAbandoned].
//
// Safe from any goroutine.
func (s *Server) Accept(ctx context.Context) (*ServerConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.pending) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.wait(ctx.Done())
	}
	p := s.pending[0]
	s.pending[0] = nil
	s.pending = s.pending[1:]
	p.accepted = true
	s.broadcast()
	return p.sc, nil
}

// next returns the answer for a dial. s.mu is held.
func (s *Server) next() Answer {
	if len(s.script) == 0 {
		return s.fallback
	}
	a := s.script[0]
	s.script = slices.Delete(s.script, 0, 1)
	return a
}

// selectSubprotocol picks the first offered subprotocol the server
// supports. It reports false when some were offered and none is supported.
func (s *Server) selectSubprotocol(offered []string) (string, bool) {
	if len(offered) == 0 {
		return "", true
	}
	for _, p := range offered {
		if slices.Contains(s.opts.subprotocols, p) {
			return p, true
		}
	}
	return "", false
}

// wait releases s.mu until the next broadcast or until done is closed, then
// takes s.mu again. s.mu is held.
func (s *Server) wait(done <-chan struct{}) {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	ch := s.changed
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-ch:
	case <-done:
	}
}

// broadcast wakes every waiter. s.mu is held.
func (s *Server) broadcast() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}
