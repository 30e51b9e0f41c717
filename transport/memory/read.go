package memory

import (
	"unicode/utf8"

	"github.com/tether-go/tether/transport"
)

// Read returns the next message from the server. Fragments are reassembled
// into one message. A ping is answered with a pong before Read returns it.
// The payload is borrowed: the Conn reuses its buffer on the next Read.
//
// Read returns a [*transport.CloseError] when the server's close frame comes
// (Remote true; the Conn echoes the code), when the server drops the
// connection (code 1006, Remote true, wrapping io.ErrUnexpectedEOF), and when
// the Conn fails the connection itself: 1009 wrapping
// [transport.ErrMessageTooLarge], 1007 wrapping [transport.ErrInvalidUTF8], or
// 1002 wrapping [transport.ErrProtocol] for an invalid close frame.
//
// After Close, Read returns the data messages the server sent before it
// answered the close frame (or before the close timeout ran out), also
// those it sent before the Close and nobody read yet, then the local close
// error. A message among them that Read would refuse (too large, invalid
// UTF-8) is thrown away at the end, with those after it, and counted (see
// Discarded).
//
// Only one goroutine may call Read.
func (c *conn) Read() (transport.Message, error) {
	l := c.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.clientErr != nil {
			if m, ok := c.drain(); ok {
				return m, nil
			}
			return transport.Message{}, l.clientErr
		}
		f, ok := l.toClient.pop()
		if !ok {
			waitLocked[struct{}](l, nil)
			continue
		}
		l.broadcast() // room for a blocked sender
		if m, done := c.handle(f); done {
			return m, l.clientErr
		}
	}
}

// handle processes one inbound frame and reports whether Read returns now;
// when the frame ended the Conn, l.clientErr is set. l.mu is held.
func (c *conn) handle(f frame) (transport.Message, bool) {
	l := c.l
	switch f.op {
	case opPing:
		if l.serverErr == nil {
			l.toServer.push(frame{op: opPong, fin: true, payload: clone(f.payload)})
			l.broadcast()
		}
		c.ctrl = append(c.ctrl[:0], f.payload...)
		return transport.Message{Type: transport.Ping, Payload: c.ctrl}, true
	case opPong:
		c.ctrl = append(c.ctrl[:0], f.payload...)
		return transport.Message{Type: transport.Pong, Payload: c.ctrl}, true
	case opClose:
		c.closeFrame(f)
		return transport.Message{}, true
	case opText, opBinary:
		c.partial, c.buf = f.op, c.buf[:0]
	case opContinuation:
		// Nothing to check: SendFragmented queues the frames of a message
		// together, so a continuation always follows its first frame.
	}
	if int64(len(c.buf)+len(f.payload)) > l.opts.maxMessageSize {
		c.fail(transport.StatusMessageTooBig, transport.ErrMessageTooLarge)
		return transport.Message{}, true
	}
	c.buf = append(c.buf, f.payload...)
	if !f.fin {
		return transport.Message{}, false
	}
	typ := transport.MessageType(c.partial)
	c.partial = 0
	if typ == transport.Text && !utf8.Valid(c.buf) {
		c.fail(transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8)
		return transport.Message{}, true
	}
	return transport.Message{Type: typ, Payload: c.buf}, true
}

// closeFrame handles the server's close frame: a valid one is echoed and
// ends the Conn as a remote close, or, when the client's Close sent its
// close frame first, answers it and ends the Conn with the local close; an
// invalid one fails the Conn. l.mu is held.
func (c *conn) closeFrame(f frame) {
	switch {
	case f.code == transport.StatusNoStatusReceived && f.reason != "",
		f.code != transport.StatusNoStatusReceived && !f.code.Sendable(),
		len(f.reason) > maxControlPayload-2:
		c.fail(transport.StatusProtocolError, transport.ErrProtocol)
		return
	case !utf8.ValidString(f.reason):
		c.fail(transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8)
		return
	}
	if c.l.closing != nil {
		c.l.endAnswered(c.l.closing) // Close returns nil
		return
	}
	c.l.sendClientClose(f.code, "")
	c.l.endClient(&transport.CloseError{Code: f.code, Reason: f.reason, Remote: true})
}

// fail closes the connection from the client with code because of cause,
// without waiting for the server's answer; during the client's Close, whose
// close frame went out already, it sends none. l.mu is held.
func (c *conn) fail(code transport.StatusCode, cause error) {
	c.partial = 0
	if c.l.closing == nil {
		c.l.sendClientClose(code, "")
	}
	c.l.endClient(&transport.CloseError{Code: code, Err: cause})
}

// drain returns the next data message kept for Read after the end (see
// link.endAnswered), and false when none is left. l.mu is held.
func (c *conn) drain() (transport.Message, bool) {
	l := c.l
	for {
		f, ok := l.toClient.pop()
		if !ok {
			return transport.Message{}, false
		}
		if f.op != opContinuation {
			c.partial, c.buf = f.op, c.buf[:0]
		}
		c.buf = append(c.buf, f.payload...)
		if f.fin {
			typ := transport.MessageType(c.partial)
			c.partial = 0
			return transport.Message{Type: typ, Payload: c.buf}, true
		}
	}
}
