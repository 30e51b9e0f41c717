package memory

import (
	"context"
	"fmt"

	"github.com/tether-go/tether/transport"
)

// Transport dials a [Server] in the same process. Make one with
// [Server.Transport]. It is safe for concurrent use.
type Transport struct {
	srv *Server
}

var _ transport.Transport = (*Transport)(nil)

// Name returns "memory".
//
// Safe from any goroutine.
func (t *Transport) Name() string { return "memory" }

// Dial records target on the server and answers as the server's script says
// (see [Answer]): a [*transport.HandshakeError] for a refusal, a network
// error for an unreachable server, an error matching
// [transport.ErrSubprotocol] when the server supports none of the offered
// subprotocols, or a Conn once the server has accepted the connection.
//
// Dial honours ctx: when ctx ends first, Dial returns an error wrapping
// ctx.Err(), and the server's end of the half-made connection ends with
// [ErrAbandoned]. A ctx that has ended before the call makes Dial return
// at once, without recording the dial.
//
// Safe for concurrent use.
func (t *Transport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tether/memory: dial: %w", err)
	}
	s := t.srv
	s.mu.Lock()
	target = cloneTarget(target)
	s.dials = append(s.dials, target)
	s.broadcast()
	a := s.next()
	switch a.kind {
	case answerRefuse:
		s.mu.Unlock()
		return nil, &transport.HandshakeError{StatusCode: a.status, Header: a.header.Clone(), Body: a.body}
	case answerFail:
		s.mu.Unlock()
		if a.err == nil {
			return nil, refusedError()
		}
		return nil, a.err
	}
	proto, ok := s.selectSubprotocol(target.Subprotocols)
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("tether/memory: dial: %d offered: %w", len(target.Subprotocols), transport.ErrSubprotocol)
	}
	l := newLink(&s.opts, target, proto)
	p := &pendingConn{sc: &ServerConn{l: l}}
	s.pending = append(s.pending, p)
	s.broadcast()
	proceed := a.kind == answerProceed
	for !proceed || !(p.accepted || s.opts.autoAccept) {
		if ctx.Err() != nil {
			s.mu.Unlock()
			l.abandon()
			return nil, fmt.Errorf("tether/memory: dial: %w", ctx.Err())
		}
		s.wait(ctx.Done())
	}
	s.mu.Unlock()
	return &conn{l: l}, nil
}
