package memory

import (
	"context"
	"fmt"

	"github.com/tether-go/tether/transport"
)

// maxControlPayload is the largest payload of a ping, pong or close frame.
const maxControlPayload = 125

// conn is the client's end of a link: the [transport.Conn] that Dial returns.
type conn struct {
	l *link

	// Reader state, touched only by the goroutine that calls Read.
	buf     []byte // the borrowed payload of the last data message
	ctrl    []byte // the borrowed payload of the last ping or pong
	partial op     // type of the message being reassembled, or 0
}

var (
	_ transport.Conn           = (*conn)(nil)
	_ transport.DiscardCounter = (*conn)(nil)
)

// Write queues payload for the server. It blocks while the queue toward the
// server is full, until there is room, the Conn ends or ctx ends.
//
// Safe for concurrent use.
func (c *conn) Write(ctx context.Context, typ transport.MessageType, payload []byte) error {
	o, ok := dataOp(typ)
	if !ok {
		return fmt.Errorf("tether/memory: write %v: %w", typ, transport.ErrUnsupported)
	}
	return c.send(ctx, frame{op: o, fin: true, payload: clone(payload)})
}

// Ping sends a ping. The server answers with a pong at once, unless it is
// stalled; the pong arrives through Read.
//
// Safe for concurrent use.
func (c *conn) Ping(ctx context.Context, payload []byte) error {
	if len(payload) > maxControlPayload {
		return fmt.Errorf("tether/memory: ping payload of %d bytes: %w", len(payload), transport.ErrProtocol)
	}
	return c.send(ctx, frame{op: opPing, fin: true, payload: clone(payload)})
}

func (c *conn) send(ctx context.Context, f frame) error {
	l := c.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		switch {
		case l.closing != nil:
			return transport.ErrClosed
		case l.clientErr != nil:
			return l.clientErr
		case ctx.Err() != nil:
			return ctx.Err()
		case l.fits(&l.toServer, 1):
			l.toServer.push(f)
			if f.op == opPing && l.serverErr == nil {
				if l.stalled {
					l.pendingPings = append(l.pendingPings, clone(f.payload))
				} else {
					l.toClient.push(frame{op: opPong, fin: true, payload: clone(f.payload)})
				}
			}
			l.broadcast()
			return nil
		}
		waitLocked(l, ctx.Done())
	}
}

// Close sends a close frame with code and reason and waits for the server's
// close frame under the close timeout (see [WithCloseTimeout] and
// [WithClock]). It returns nil once the handshake is complete, a
// [*transport.TimeoutError] when the timeout runs out first, and the
// connection's error when the server drops it meanwhile. A pending Read
// goes on returning the data messages the server sends before its answer,
// then the local close error; the Reads after Close return those still
// unread (see Read). A code that may not be sent on the wire
// ([transport.StatusCode.Sendable] false, such as 1006) aborts: no close
// frame, no wait, what the server sent is dropped, and the server's end
// sees [ErrDropped]. Other codes are sent as they are.
//
// From the first call on, Write and Ping return [transport.ErrClosed],
// whether that call closed the Conn or found it ended.
//
// Safe from any goroutine, any number of times; calls after the first, and
// calls once the Conn has ended, return nil and do nothing more.
func (c *conn) Close(code transport.StatusCode, reason string) error {
	l := c.l
	l.mu.Lock()
	if l.closing != nil {
		l.mu.Unlock()
		return nil
	}
	ce := &transport.CloseError{Code: code, Reason: reason}
	l.closing = ce
	if l.clientErr != nil {
		l.mu.Unlock()
		return nil
	}
	if !code.Sendable() {
		// Abort: no close frame, no wait. The server sees a drop.
		l.toServer.reset()
		l.end(ce, ErrDropped)
		l.mu.Unlock()
		return nil
	}
	l.sendClientClose(code, reason)
	l.ackClientClose()
	if l.serverClose != nil {
		l.endAnswered(ce)
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()

	timer := l.opts.clock.NewTimer(l.opts.closeTimeout)
	defer timer.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		switch {
		case l.clientErr == error(ce): // Read took the answer
			return nil
		case l.clientErr != nil: // dropped while waiting, or Read failed it
			return l.clientErr
		case l.serverClose != nil:
			l.endAnswered(ce)
			return nil
		}
		if !waitLocked(l, timer.C()) {
			if l.clientErr == error(ce) {
				return nil
			}
			if l.clientErr != nil {
				return l.clientErr
			}
			l.endAnswered(ce)
			return &transport.TimeoutError{Phase: "close", After: l.opts.closeTimeout}
		}
	}
}

// Discarded returns how many data messages the Conn threw away: at the
// end of a Close, those among the messages kept for Read that it would
// have refused, and the ones after them (see Read). The count is final
// once the Conn has ended. See [transport.DiscardCounter].
//
// Safe from any goroutine.
func (c *conn) Discarded() uint64 {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	return c.l.discarded
}

// Done is closed when the Conn has ended.
//
// Safe from any goroutine.
func (c *conn) Done() <-chan struct{} { return c.l.clientDone }

// Err reports how the Conn ended, or nil while it is up (and while its Close
// waits for the server).
//
// Safe from any goroutine.
func (c *conn) Err() error {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	return c.l.clientErr
}

// Subprotocol returns the subprotocol the server selected, or "".
//
// Safe from any goroutine.
func (c *conn) Subprotocol() string { return c.l.subprotocol }

func clone(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}
