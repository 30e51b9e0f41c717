package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/tether-go/tether/transport"
)

// ServerConn is the server's end of one connection, driven by the test's
// script. Every method is safe from any goroutine; the ones that block take a
// ctx.
//
// A ServerConn ends (Done is closed) when its client ends, whatever the
// reason, or when the script drops it; Err then says how, from the server's
// side: a [*transport.CloseError] for a close handshake (Remote true when the
// client's close frame came first), [ErrDropped] after [ServerConn.Drop],
// [ErrAbandoned] for a dial the client gave up.
type ServerConn struct {
	l *link
}

// Target returns what the client dialed to make this connection.
//
// Safe from any goroutine.
func (s *ServerConn) Target() transport.Target { return cloneTarget(s.l.target) }

// Subprotocol returns the subprotocol the server selected, or "".
//
// Safe from any goroutine.
func (s *ServerConn) Subprotocol() string { return s.l.subprotocol }

// Send queues one message of type Text or Binary for the client. It blocks
// while the queue toward the client is full, until there is room, the
// connection ends or ctx ends. Text is not checked: invalid UTF-8 makes the
// client close with 1007, as a real client would.
//
// Safe for concurrent use.
func (s *ServerConn) Send(ctx context.Context, typ transport.MessageType, payload []byte) error {
	o, ok := dataOp(typ)
	if !ok {
		return fmt.Errorf("tether/memory: send %v: %w", typ, transport.ErrUnsupported)
	}
	return s.send(ctx, frame{op: o, fin: true, payload: clone(payload)})
}

// SendFragmented queues one message of type Text or Binary split into parts
// frames of about equal size (parts below 1 count as 1), for the client to
// reassemble. The frames go in together, with nothing between them; the
// client applies its size limit to the whole message.
//
// Safe for concurrent use.
func (s *ServerConn) SendFragmented(ctx context.Context, typ transport.MessageType, payload []byte, parts int) error {
	o, ok := dataOp(typ)
	if !ok {
		return fmt.Errorf("tether/memory: send %v: %w", typ, transport.ErrUnsupported)
	}
	parts = max(parts, 1)
	frames := make([]frame, parts)
	for i := range frames {
		lo, hi := len(payload)*i/parts, len(payload)*(i+1)/parts
		frames[i] = frame{op: opContinuation, payload: clone(payload[lo:hi])}
	}
	frames[0].op = o
	frames[parts-1].fin = true
	return s.send(ctx, frames...)
}

// Ping sends a ping carrying payload (at most 125 bytes). The client answers
// with a pong, which [ServerConn.Recv] returns, when it reads the ping.
//
// Safe for concurrent use.
func (s *ServerConn) Ping(ctx context.Context, payload []byte) error {
	if len(payload) > maxControlPayload {
		return fmt.Errorf("tether/memory: ping payload of %d bytes: %w", len(payload), transport.ErrProtocol)
	}
	return s.send(ctx, frame{op: opPing, fin: true, payload: clone(payload)})
}

func (s *ServerConn) send(ctx context.Context, frames ...frame) error {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		switch {
		case l.serverClose != nil:
			return transport.ErrClosed
		case l.serverErr != nil:
			return l.serverErr
		case ctx.Err() != nil:
			return ctx.Err()
		case l.fits(&l.toClient, len(frames)):
			for _, f := range frames {
				l.toClient.push(f)
			}
			l.broadcast()
			return nil
		}
		waitLocked(l, ctx.Done())
	}
}

// Recv returns the next thing the client sent: a message (Text, Binary, Ping
// or Pong; the payload is the caller's to keep), or, for the client's close
// frame, a [*transport.CloseError] with Remote true and the client's code and
// reason. Once the connection has ended and everything queued has been
// received, Recv returns Err. While the server is stalled, Recv blocks until
// [ServerConn.Resume] (or until the connection ends).
//
// Safe from any goroutine; concurrent callers each get different frames.
func (s *ServerConn) Recv(ctx context.Context) (transport.Message, error) {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if !l.stalled || l.serverErr != nil {
			if f, ok := l.toServer.pop(); ok {
				l.broadcast() // room for a blocked writer
				if f.op == opClose {
					return transport.Message{}, &transport.CloseError{Code: f.code, Reason: f.reason, Remote: true}
				}
				return transport.Message{Type: transport.MessageType(f.op), Payload: f.payload}, nil
			}
			if l.serverErr != nil {
				return transport.Message{}, l.serverErr
			}
		}
		if err := ctx.Err(); err != nil {
			return transport.Message{}, err
		}
		waitLocked(l, ctx.Done())
	}
}

// CloseReceived returns the code and reason of the close frame the client
// sent, and whether it has sent one, whether or not Recv has reached it yet.
// An echo of the server's own close counts (its reason is "").
//
// Safe from any goroutine.
func (s *ServerConn) CloseReceived() (code transport.StatusCode, reason string, ok bool) {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	if f := s.l.clientClose; f != nil {
		return f.code, f.reason, true
	}
	return 0, "", false
}

// Close sends a close frame with code and reason. It does not wait: the
// client ends (and so this ServerConn, see Done) when it reads the frame,
// or, if the client's Close is waiting for an answer, at once. Code
// [transport.StatusNoStatusReceived] (1005) with an empty reason sends a
// close frame without a body. Nothing is validated, so a script can send
// a code that may not appear on the wire, or a reason longer than 123 bytes,
// and watch the client fail with 1002.
//
// Safe from any goroutine, any number of times; calls after the first, and
// calls once the connection has ended, do nothing.
func (s *ServerConn) Close(code transport.StatusCode, reason string) {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.serverClose != nil || l.serverErr != nil {
		return
	}
	l.sendServerClose(code, reason)
}

// Drop makes the connection vanish without a close frame, like a reset: what
// either side had queued is lost, the client ends at once with a
// [*transport.CloseError] of code 1006 (Remote true, wrapping
// io.ErrUnexpectedEOF), and this ServerConn ends with [ErrDropped].
//
// Safe from any goroutine, any number of times.
func (s *ServerConn) Drop() {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.serverErr != nil {
		return
	}
	l.toServer.reset()
	l.end(dropError(), ErrDropped)
}

// Stall turns the server into a black hole: it stops reading (Recv blocks,
// so the client's writes fill the queue and then block), stops answering
// pings and stops acknowledging a client's close. Sends from the script
// still go out.
//
// Safe from any goroutine.
func (s *ServerConn) Stall() {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.l.stalled = true
	s.l.broadcast()
}

// HoldClose makes this connection leave the client's close frame
// unanswered, as [WithManualCloseAck] does for every connection: Recv
// returns it as usual, Send still sends, and the answer goes out when the
// script calls [ServerConn.Close] (or the client's close timeout runs
// out). A test uses it to send messages between the two close frames.
//
// Safe from any goroutine.
func (s *ServerConn) HoldClose() {
	s.l.mu.Lock()
	s.l.holdClose = true
	s.l.mu.Unlock()
}

// Resume undoes [ServerConn.Stall]: the server reads again, answers the pings
// that came while it was stalled, in order, and acknowledges a pending close
// unless [WithManualCloseAck] is set.
//
// Safe from any goroutine.
func (s *ServerConn) Resume() {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stalled {
		return
	}
	l.stalled = false
	if l.clientErr == nil {
		for _, p := range l.pendingPings {
			l.toClient.push(frame{op: opPong, fin: true, payload: p})
		}
	}
	l.pendingPings = nil
	l.ackClientClose()
	l.broadcast()
}

// Done is closed when the connection has ended.
//
// Safe from any goroutine.
func (s *ServerConn) Done() <-chan struct{} { return s.l.serverDone }

// Err reports how the connection ended, from the server's side (see
// [ServerConn]), or nil while it is up.
//
// Safe from any goroutine.
func (s *ServerConn) Err() error {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	return s.l.serverErr
}

func cloneTarget(t transport.Target) transport.Target {
	return transport.Target{URL: t.URL, Header: t.Header.Clone(), Subprotocols: slices.Clone(t.Subprotocols)}
}
