package websocket

import (
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Buffered reports whether the next Read is certain to return without
// waiting for the network (see [transport.Backlogger]): the connection has
// ended, or the bytes already received hold the whole next frame and it is
// a ping, a pong, or a complete message in one frame that Read will accept
// (a valid header within the size limits, valid UTF-8 for text). Anything
// else reports false, among them a fragment, a close frame (Read then
// echoes it and ends the connection), a frame Read would reject (Read then
// fails the connection and waits for the peer to hang up), and a close
// under way. A Close that starts after Buffered returned may still make the
// next Read wait for the peer's answer.
//
// The first call looks at the read buffer under the read lock. It also
// makes every later Read look at what follows its message before it
// returns, under the lock it holds anyway, so that later calls cost a few
// loads and no lock. The look reads nothing, does not allocate, and costs a
// few nanoseconds, plus the UTF-8 check of a text frame, which the Read of
// that frame then skips.
//
// Only the reader goroutine may call it, between Reads.
func (c *conn) Buffered() bool {
	if !c.lookAhead {
		if !c.readMu.TryLock() {
			// Close is reading the peer's answer itself: Read would wait.
			return false
		}
		c.lookAhead = true
		c.nextReady = c.buffered()
		c.unlockRead()
	}
	if c.nextReady && !c.closing.Load() {
		return true
	}
	select {
	case <-c.done:
		return true // Read returns Err at once
	default:
		return false
	}
}

// buffered looks at the next frame for Buffered. It runs under readMu. It
// leaves the end of the connection to Buffered, which checks it when this
// says false.
func (c *conn) buffered() bool {
	if c.closing.Load() {
		return false // Read discards the input up to the peer's close frame
	}
	p := c.rd
	head := p.buf[p.r:p.w]
	if ready, sure := c.bufferedData(head); sure {
		return ready
	}
	var rest []byte // bytes that came with the handshake answer, after head
	if hr, ok := p.src.(*handshakeReader); ok && hr.br != nil {
		if n := hr.br.Buffered(); n > 0 {
			rest, _ = hr.br.Peek(n) // n bytes are buffered: no read
		}
	}
	return c.bufferedFrame(head, rest)
}

// bufferedFrame is buffered's general case, for the input head followed
// by rest.
func (c *conn) bufferedFrame(head, rest []byte) bool {
	op, size, length, ok := peekFrame(head, rest)
	if !ok || length > int64(len(head)+len(rest)-size) {
		return false // not a frame Buffered accepts, or not all here
	}
	if op.IsControl() {
		return true // a ping or a pong, which may come inside a fragmented message
	}
	if c.frag || length > c.opts.maxFrameSize { // which is at most maxMessageSize
		return false // Read fails the connection
	}
	if op == ws.OpText && !c.textChecked {
		end := int64(size) + length
		if end > int64(len(head)) || !utf8.Valid(head[size:end]) {
			// Invalid, or partly in the handshake's buffer (not worth
			// joining for the first message or two).
			return false
		}
		c.textChecked = true
	}
	return true
}

// bufferedData is buffered's shortcut for the frames of a busy feed: a
// final binary or text frame, unmasked, without reserved bits, with a
// 7-bit or 16-bit length, whose header is in head. For one of those it
// answers (sure true) without the general parse: whether all of it is in
// head and Read will return it at once. For anything else sure is false.
func (c *conn) bufferedData(head []byte) (ready, sure bool) {
	if c.frag {
		return false, false
	}
	op, start, end, ok := plainFrame(head)
	if !ok {
		return false, false // another frame, or not all here (the rest may have come with the handshake answer)
	}
	if int64(end-start) > c.opts.maxFrameSize {
		return false, true // Read fails the connection
	}
	if op == ws.OpText && !c.textChecked {
		if !utf8.Valid(head[start:end]) {
			return false, true
		}
		c.textChecked = true
	}
	return true, true
}

// peekFrame parses the header of the frame at the start of the buffered
// input, which is head followed by rest, without consuming it. It accepts
// only the headers of frames that Read returns as they are: a final text or
// binary frame, or a ping or pong with a 7-bit length, each without
// reserved bits or mask (a server does not mask). For those it returns the
// opcode, the header size and the payload length; for anything else, or an
// input shorter than the header, ok is false.
func peekFrame(head, rest []byte) (op ws.OpCode, size int, length int64, ok bool) {
	const maxSize = 10 // an unmasked header
	if len(head) < maxSize && len(rest) > 0 {
		var joined [maxSize]byte
		n := copy(joined[:], head)
		n += copy(joined[n:], rest)
		return parseFrameHeader(joined[:n])
	}
	return parseFrameHeader(head)
}

// parseFrameHeader is peekFrame on one slice: the header as the reader
// parses it (parseHeader), kept only for the frames peekFrame accepts.
func parseFrameHeader(b []byte) (op ws.OpCode, size int, length int64, ok bool) {
	h, size, ok := parseHeader(b) // declines masked frames and short input
	if !ok || !h.Fin || h.Rsv != 0 {
		return 0, 0, 0, false // not final, or reserved bits
	}
	switch h.OpCode {
	case ws.OpPing, ws.OpPong:
		if size != 2 {
			return 0, 0, 0, false // a longer encoding of a control frame's length
		}
	case ws.OpText, ws.OpBinary:
	default:
		return 0, 0, 0, false // a continuation, a close, or reserved
	}
	return h.OpCode, size, h.Length, true
}
