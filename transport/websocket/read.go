package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/tether-go/tether/transport"
)

// retainLimit is the largest message buffer kept between messages. A
// message larger than this is read into a buffer that is dropped at the
// next Read, so one big message does not pin memory on an idle connection.
// Up to this size the buffer is sized from the declared frame length at
// once; beyond it, it grows as the bytes actually arrive. See grow.
const retainLimit = 256 << 10

// minBuffer is the smallest message buffer allocated, so that messages of
// slowly growing sizes do not reallocate at every step.
const minBuffer = 512

// Read returns the next message. Data payloads are borrowed from a buffer
// the next Read reuses; see [transport.Conn.Read]. A ping is answered (its
// pong is queued in the writer, without waiting) before Read returns it.
// A peer that breaks the protocol (1002), sends invalid UTF-8 (1007) or too
// large a message (1009) makes Read fail the connection and return the
// local *transport.CloseError at once, without waiting for the peer (see
// failWith); every later Read returns it too.
//
// While a close this side started is under way, Read goes on returning
// what the peer sends before its answer, and after the end it first
// returns the data messages Close read for it (see Close), then the end.
//
// Only one goroutine may call Read at a time.
func (c *conn) Read() (transport.Message, error) {
	if f := c.failing.Load(); f != nil {
		// This side failed the connection (see failWith): the close goes
		// on in the background, which may hold readMu while it drains.
		return transport.Message{}, f.err
	}
	if !c.readCalled.Load() {
		c.readCalled.Store(true)
	}
	if !c.readMu.TryLock() {
		// Close may be reading ahead (see readAhead): it hands the input
		// back between two messages when it sees a Read waiting.
		c.readerWaiting.Store(true)
		c.readMu.Lock()
		c.readerWaiting.Store(false)
	}
	m, err := c.read()
	if c.lookAhead {
		// For Buffered, under the lock held anyway. After a failure, the
		// next Read returns it at once.
		c.nextReady = c.failing.Load() != nil || c.buffered()
	}
	c.unlockRead()
	return m, err
}

// unlockRead releases readMu after the reader goroutine used it (in Read or
// Buffered). Close may be waiting for the reader to see the peer's close
// frame, having found readMu held: it is told the reader has gone, so it
// reads by itself.
func (c *conn) unlockRead() {
	c.readMu.Unlock()
	if c.closing.Load() {
		select {
		case c.readerLeft <- struct{}{}:
		default:
		}
	}
}

// read runs under readMu.
func (c *conn) read() (transport.Message, error) {
	c.rd.lent = false // the caller is done with the last payload
	if m, ok := c.popHeld(); ok {
		return m, nil
	}
	if c.over.Load() {
		return transport.Message{}, c.Err()
	}
	if !c.frag {
		c.buf = c.buf[:0]
		if cap(c.buf) > retainLimit {
			c.buf = nil
		}
	}
	return c.next()
}

// next reads frames up to the next message, for the reader or, with
// c.ahead set, for Close reading ahead (see readAhead): then it reads past
// pings and pongs (no pong follows our close frame), reads the peer's
// close frame without touching ctrl (the reader may still hold the payload
// of the last control frame Read returned), and leaves the read deadline
// to Close. It runs under readMu.
func (c *conn) next() (transport.Message, error) {
	if m, ok := c.small(); ok {
		return m, nil
	}
	for {
		if c.opts.readTimeout > 0 && !c.ahead {
			_ = c.nc.SetReadDeadline(time.Now().Add(c.opts.readTimeout))
		}
		h, err := c.readHeader()
		if err != nil {
			if errors.Is(err, ws.ErrHeaderLengthMSB) || errors.Is(err, ws.ErrHeaderLengthUnexpected) {
				return c.failWith(transport.StatusProtocolError, fmt.Errorf("%w: %w", transport.ErrProtocol, err))
			}
			return c.readFailed(err)
		}
		// Buffered may have checked this frame's text already.
		checked := c.textChecked
		c.textChecked = false
		if !plainData(h, c.frag) {
			state := ws.StateClientSide
			if c.frag {
				state |= ws.StateFragmented
			}
			if c.fl != nil {
				state |= ws.StateExtended // checkRsv checks the bits
			}
			if err := ws.CheckHeader(h, state); err != nil {
				return c.failWith(transport.StatusProtocolError, fmt.Errorf("%w: %w", transport.ErrProtocol, err))
			}
		}
		if c.fl != nil {
			if err := checkRsv(h); err != nil {
				return c.failWith(transport.StatusProtocolError, err)
			}
		}
		if h.OpCode.IsControl() {
			if c.ahead {
				if h.OpCode != ws.OpClose {
					if err := c.discard(h.Length); err != nil {
						return c.readFailed(err)
					}
					continue
				}
				var p [ws.MaxControlFramePayloadSize]byte // CheckHeader bounds Length
				if _, err := io.ReadFull(c.rd, p[:h.Length]); err != nil {
					return c.readFailed(err)
				}
				return c.peerClose(p[:h.Length])
			}
			return c.control(h)
		}
		if c.fl != nil && (c.fl.on || h.Rsv != 0) {
			m, more, err := c.readCompressed(h)
			if more {
				continue
			}
			return m, err
		}

		if h.Length > c.opts.maxFrameSize || int64(len(c.buf))+h.Length > c.opts.maxMessageSize {
			return c.failWith(transport.StatusMessageTooBig, fmt.Errorf(
				"%w: frame of %d bytes after %d (limits: frame %d, message %d)",
				transport.ErrMessageTooLarge, h.Length, len(c.buf), c.opts.maxFrameSize, c.opts.maxMessageSize))
		}
		if !c.frag {
			c.msgOp = h.OpCode
			c.utf8Done = 0
			if h.Fin && !c.ahead && h.Length <= int64(c.rd.w-c.rd.r) {
				// All of it is buffered: lent, like small's.
				return c.lend(int(h.Length), checked)
			}
		}
		if err := c.readPayload(h.Length, h.Fin); err != nil {
			return c.readFailed(err)
		}
		if c.msgOp == ws.OpText && !checked && !c.checkUTF8(h.Fin) {
			return c.failWith(transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8)
		}
		if !h.Fin {
			c.frag = true
			continue
		}
		c.frag = false
		return transport.Message{Type: transport.MessageType(c.msgOp), Payload: c.buf}, nil
	}
}

// small returns the next message at once when it is one that the read
// buffer holds whole: a final text or binary frame, unmasked, with no
// reserved bit and a 7-bit or 16-bit length, within the size limits,
// outside a fragmented message, on a connection without compression, idle
// read timeout or a close reading ahead. That is most messages of a busy
// feed, and the rest of next would do the same for them with more steps.
// The payload is not copied: it is lent from the read buffer, which is not
// refilled before the next Read (see parkReader.lent). Anything else (ok
// false) takes the general path, which also reports what is wrong with a
// frame; invalid UTF-8 in a text message does too.
func (c *conn) small() (m transport.Message, ok bool) {
	if c.frag || c.fl != nil || c.ahead || c.opts.readTimeout > 0 {
		return m, false
	}
	p := c.rd
	b := p.buf[p.r:p.w]
	op, start, end, ok := plainFrame(b)
	if n := int64(end - start); !ok || n > c.opts.maxFrameSize || n > c.opts.maxMessageSize {
		return m, false
	}
	payload := b[start:end:end]
	if op == ws.OpText && !c.textChecked && !utf8.Valid(payload) {
		return m, false
	}
	p.r += int32(end)
	p.lent = true
	c.textChecked = false
	c.msgOp = op
	return transport.Message{Type: transport.MessageType(op), Payload: payload}, true
}

// plainFrame parses, at the start of b, the header of a final, unmasked
// text or binary frame without reserved bits and with a 7-bit or 16-bit
// length, whose payload b holds whole: the frames of a busy feed, which
// small returns and bufferedData accepts without the general path. It
// returns the opcode and where the payload lies in b; ok is false for any
// other frame, and for one that b does not hold whole.
func plainFrame(b []byte) (op ws.OpCode, start, end int, ok bool) {
	// b[0] is 0x81 (final text) or 0x82 (final binary), as one unsigned
	// comparison.
	if len(b) < 2 || b[0]-(0x80|byte(ws.OpText)) > 1 {
		return 0, 0, 0, false
	}
	start, end = 2, 2+int(b[1]) // a masked frame's second byte is 128 or more
	if b[1] >= 126 {
		if b[1] != 126 || len(b) < 4 {
			return 0, 0, 0, false
		}
		start, end = 4, 4+int(binary.BigEndian.Uint16(b[2:4]))
	}
	return ws.OpCode(b[0] & 0x0f), start, end, end <= len(b)
}

// lend returns the message whose n payload bytes start the read buffer,
// lent from it (see parkReader.lent); checked says its text was checked
// already.
func (c *conn) lend(n int, checked bool) (transport.Message, error) {
	p := c.rd
	payload := p.buf[p.r : int(p.r)+n : int(p.r)+n]
	if c.msgOp == ws.OpText && !checked && !utf8.Valid(payload) {
		return c.failWith(transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8)
	}
	p.r += int32(n)
	p.lent = true
	return transport.Message{Type: transport.MessageType(c.msgOp), Payload: payload}, nil
}

// plainData reports whether h is the header of a text or binary frame
// that starts a message (not inside a fragmented one), unmasked, with no
// reserved bit: most frames, and all that ws.CheckHeader would accept
// without looking further.
func plainData(h ws.Header, frag bool) bool {
	return !frag && h.Rsv == 0 && !h.Masked && (h.OpCode == ws.OpText || h.OpCode == ws.OpBinary)
}

// readHeader reads the next frame header: in place when the read buffer
// holds all of it, as it does for most frames on a busy connection, and
// through gobwas otherwise (which also reports what is wrong with a header
// parseHeader leaves to it).
func (c *conn) readHeader() (ws.Header, error) {
	if h, n, ok := parseHeader(c.rd.buf[c.rd.r:c.rd.w]); ok {
		c.rd.r += int32(n)
		return h, nil
	}
	return ws.ReadHeaderBuffer(c.rd, c.hbuf[:])
}

// parseHeader parses the header of an unmasked frame at the start of b,
// as ws.ReadHeaderBuffer would, and returns it with its size. ok is false
// when b does not hold the whole header, and for a header gobwas rejects
// or the caller must see as masked (the slow path handles both).
func parseHeader(b []byte) (h ws.Header, n int, ok bool) {
	if len(b) < 2 || b[1]&0x80 != 0 {
		return h, 0, false
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] & 0x70) >> 4
	h.OpCode = ws.OpCode(b[0] & 0x0f)
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, 0, false
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		return h, 4, true
	case 127:
		if len(b) < 10 || b[2]&0x80 != 0 {
			return h, 0, false
		}
		h.Length = int64(binary.BigEndian.Uint64(b[2:10]))
		return h, 10, true
	default:
		h.Length = int64(l)
		return h, 2, true
	}
}

// readPayload appends the n payload bytes of a frame to buf, growing it as
// they arrive; last says the frame ends its message.
func (c *conn) readPayload(n int64, last bool) error {
	for n > 0 {
		if len(c.buf) == cap(c.buf) {
			c.grow(n, last)
		}
		start := len(c.buf)
		chunk := int(min(int64(cap(c.buf)-start), n))
		c.buf = c.buf[:start+chunk]
		if err := c.rd.readFull(c.buf[start:]); err != nil {
			c.buf = c.buf[:start]
			return err
		}
		n -= int64(chunk)
	}
	return nil
}

// grow makes room, in a new buffer holding what buf holds, for more of the
// remaining bytes of the frame being read; last says that frame ends its
// message. The capacity at least doubles, so a message joined from many
// fragments costs time and memory linear in its size (not one copy of
// everything before it per fragment), and it never exceeds the message
// size limit. Up to retainLimit, the buffer is sized for the whole rest of
// the frame at once (doubling, capped at retainLimit, when more fragments
// may follow); beyond it, it only doubles, so a peer that declares a huge
// frame and sends little costs little. For the frame that ends the message
// it is never larger than the message needs (or minBuffer).
func (c *conn) grow(remaining int64, last bool) {
	have := int64(cap(c.buf))
	need := int64(len(c.buf)) + remaining
	var newCap int64
	if need <= retainLimit {
		newCap = max(need, min(2*have, retainLimit), minBuffer)
	} else {
		newCap = max(2*have, retainLimit)
	}
	if last {
		newCap = min(newCap, max(need, minBuffer))
	}
	newCap = min(newCap, c.opts.maxMessageSize)
	nb := make([]byte, len(c.buf), newCap)
	copy(nb, c.buf)
	c.buf = nb
}

// checkUTF8 checks the text received since the last check. Before the final
// fragment, a rune cut by the fragment boundary is left for the next one.
func (c *conn) checkUTF8(fin bool) bool {
	b := c.buf[c.utf8Done:]
	cut := len(b)
	if !fin {
		for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					cut = len(b) - i
				}
				break
			}
		}
	}
	if !utf8.Valid(b[:cut]) {
		return false
	}
	c.utf8Done += cut
	return true
}

// control reads and handles a control frame.
func (c *conn) control(h ws.Header) (transport.Message, error) {
	p := c.ctrl[:h.Length]
	if _, err := io.ReadFull(c.rd, p); err != nil {
		return c.readFailed(err)
	}
	switch h.OpCode {
	case ws.OpPing:
		c.w.queuePong(p)
		return transport.Message{Type: transport.Ping, Payload: p}, nil
	case ws.OpPong:
		return transport.Message{Type: transport.Pong, Payload: p}, nil
	default: // ws.OpClose; CheckHeader rejected the reserved control opcodes.
		return c.peerClose(p)
	}
}

// peerClose handles a close frame the peer started: it checks it, echoes
// the code and ends the connection with a remote *CloseError.
func (c *conn) peerClose(p []byte) (transport.Message, error) {
	code, reason, err := transport.ParseClose(p)
	switch {
	case errors.Is(err, transport.ErrInvalidUTF8):
		return c.failWith(transport.StatusInvalidPayloadData, err)
	case err != nil:
		return c.failWith(transport.StatusProtocolError, err)
	}
	remote := &transport.CloseError{Code: code, Reason: reason, Remote: true}
	if !c.claimClose(remote) {
		// Ours went out first: this is the answer.
		c.signalPeerClosed()
		c.end(c.sentClose())
		return transport.Message{}, c.Err()
	}
	echo := code
	if echo == transport.StatusNoStatusReceived {
		echo = 0
	}
	timer := time.NewTimer(c.opts.closeTimeout)
	_ = c.w.sendClose(echo, "", time.Now().Add(c.opts.closeTimeout), timer.C)
	timer.Stop()
	c.end(remote)
	return transport.Message{}, c.Err()
}

// failWith fails the connection from the read side, for a peer that broke
// the protocol (1002), sent invalid UTF-8 (1007) or too large a message
// (1009). The connection ends for the reader at once: from now on Err
// reports a local *CloseError with code and cause, and Read returns it,
// this Read first. Sending the close frame and waiting for the peer to
// close the TCP connection go on in the background (see fail), bounded by
// the close timeout; Done is closed when they end.
func (c *conn) failWith(code transport.StatusCode, cause error) (transport.Message, error) {
	ce := &transport.CloseError{Code: code, Err: cause}
	if f := c.claimFail(ce); f != nil {
		if c.track() {
			go c.fail(f)
		}
	} else {
		// A close is under way already, or the connection has ended.
		c.end(ce)
	}
	return transport.Message{}, c.Err()
}

var closeReasons = map[transport.StatusCode]string{
	transport.StatusProtocolError:      "protocol error",
	transport.StatusInvalidPayloadData: "invalid UTF-8",
	transport.StatusMessageTooBig:      "message too big",
}

// closeReason is the reason sent in the close frame of a connection this
// side fails with e: what went wrong, in the words of closeReasons, except
// for a compressed message that does not inflate, which is no UTF-8 matter
// although its code is 1007 too.
func closeReason(e *transport.CloseError) string {
	if errors.Is(e.Err, ErrInflate) {
		return "compressed message does not inflate"
	}
	return closeReasons[e.Code]
}

// readFailed ends the connection after a network read error: code 1006,
// with the error (a *TimeoutError for the idle read timeout) as the cause.
func (c *conn) readFailed(err error) (transport.Message, error) {
	select {
	case <-c.done:
		// Close or a write failure ended it first; that is the story.
		return transport.Message{}, c.Err()
	default:
	}
	var ne net.Error
	if c.closing.Load() {
		if c.ahead && errors.As(err, &ne) && ne.Timeout() {
			// Close's deadline: Close ends the connection with its timeout.
			c.aheadTimedOut = true
			return transport.Message{}, err
		}
		c.endClosing(err)
		return transport.Message{}, c.Err()
	}
	if c.opts.readTimeout > 0 && errors.As(err, &ne) && ne.Timeout() {
		err = &transport.TimeoutError{Phase: "read", After: c.opts.readTimeout, Err: err}
	}
	c.end(&transport.CloseError{Code: transport.StatusAbnormalClosure, Err: err})
	return transport.Message{}, c.Err()
}

// discardUntilClose reads and throws away frames until the peer's close
// frame, then signals it, counting every data message thrown away (one
// whose first frames the reader had read counts too). It returns nil on
// the close frame, or the error that ended the stream first. It runs under
// readMu, on Close (see readAhead).
func (c *conn) discardUntilClose() error {
	// The rest of a fragmented message is thrown away like the rest.
	c.frag, c.textChecked = false, false
	if c.fl != nil {
		c.fl.on = false
	}
	for {
		h, err := ws.ReadHeaderBuffer(c.rd, c.hbuf[:])
		if err != nil {
			return err
		}
		if h.OpCode == ws.OpClose {
			if h.Length > ws.MaxControlFramePayloadSize {
				return ws.ErrProtocolControlPayloadOverflow
			}
			// Skipped, not read into ctrl: the payload of the last control
			// frame Read returned may still be in use.
			if err := c.discard(h.Length); err != nil {
				return err
			}
			c.signalPeerClosed()
			return nil
		}
		if err := c.discard(h.Length); err != nil {
			return err
		}
		if h.Fin && !h.OpCode.IsControl() {
			c.discarded.Add(1)
		}
	}
}

// endClosing ends a connection whose close this side started, once the
// reader has read up to the peer's answer (err nil) or failed first: then
// the peer never answered, and the end is a 1006 *CloseError carrying err.
func (c *conn) endClosing(err error) {
	if err != nil {
		c.end(&transport.CloseError{Code: transport.StatusAbnormalClosure, Err: err})
		return
	}
	c.end(c.sentClose())
}

// discard skips n bytes of input.
func (c *conn) discard(n int64) error {
	for n > 0 {
		k := int(min(n, 1<<20))
		if _, err := c.rd.Discard(k); err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}

func (c *conn) signalPeerClosed() {
	c.peerOnce.Do(func() { close(c.peerClosed) })
}
