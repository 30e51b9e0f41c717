package websocket

import (
	"io"
	"math"
	"sync/atomic"
)

// parkReader is the buffered reader of a connection. Its buffer goes back to
// the free list (see getBuf) whenever it is empty and the next read would
// wait for the network, and comes back when bytes arrive: an idle
// connection holds no read buffer. That needs a way to wait for the socket
// to be readable without reading it (wait); without one (TLS, a custom
// NetDial) the buffer is kept, as a bufio.Reader would.
//
// It also keeps the account that conn.ReadProgress reports: the bytes read
// from src, and whether a read or a wait for src is under way.
//
// Only the reader goroutine (or Close, under readMu) uses it; progress is
// the one field any goroutine may read.
type parkReader struct {
	src  io.Reader
	wait func() error // waits until src has bytes; nil when it cannot
	// try reads what src has without waiting (see socket.tryRead), or
	// is nil. With it, a busy connection whose last fill did not fill the
	// buffer costs one system call per fill, not a wait and a read.
	try  func(b []byte) (n int, err error, done bool)
	buf  []byte
	r, w int32 // unread bytes are buf[r:w] (int32, like size, keeps the struct at 80 bytes)
	// progress is the number of bytes read from src, shifted left by one;
	// its lowest bit (progressWaiting) is set while a read or a wait for
	// src is under way. One atomic word, so that a reader from another
	// goroutine sees a count and a flag that belong together.
	progress atomic.Uint64
	size     int32 // the buffer size
	full     bool  // the last fill filled the buffer: the socket likely has more
	// lent says that a payload the last Read returned lies in buf (see
	// conn.small): until the reader's next Read (which clears it), buf is
	// neither refilled nor given back, so that Close reading ahead
	// meanwhile (see conn.readAhead) reads into another buffer.
	lent bool
}

// progressWaiting is the flag bit of parkReader.progress; the count is
// kept above it.
const progressWaiting = 1

func newParkReader(src io.Reader, wait func() error, size int) *parkReader {
	p := &parkReader{src: src, wait: wait, size: int32(min(size, math.MaxInt32))}
	if wait == nil {
		p.buf = make([]byte, p.size)
	}
	return p
}

// Read reads into b from the buffer, refilling it when empty. A read at
// least as large as the buffer goes straight to the source, as bufio does.
func (p *parkReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if p.r == p.w {
		if len(b) >= int(p.size) {
			// Straight into b: no buffer is held while this blocks.
			p.release()
			p.progress.Add(progressWaiting)
			n, err := p.src.Read(b)
			p.progress.Add(uint64(n)<<1 - progressWaiting)
			return n, err
		}
		if err := p.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(b, p.buf[p.r:p.w])
	p.r += int32(n)
	return n, nil
}

// readFull fills b, as io.ReadFull(p, b) does, copying what the buffer
// holds first without a call through an interface.
func (p *parkReader) readFull(b []byte) error {
	n := copy(b, p.buf[p.r:p.w])
	p.r += int32(n)
	for n < len(b) {
		k, err := p.Read(b[n:])
		n += k
		if err != nil && n < len(b) {
			if err == io.EOF && n > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// Discard skips n bytes.
func (p *parkReader) Discard(n int) (int, error) {
	done := 0
	for done < n {
		if p.r == p.w {
			if err := p.fill(); err != nil {
				return done, err
			}
		}
		k := min(n-done, int(p.w-p.r))
		p.r += int32(k)
		done += k
	}
	return done, nil
}

// release gives the empty buffer back, when the reader can wait without
// one.
func (p *parkReader) release() {
	p.disown()
	if p.wait != nil && p.buf != nil {
		putBuf(p.buf)
		p.buf = nil
	}
	p.r, p.w = 0, 0
}

// disown lets go of a buffer that holds a payload lent to the reader (see
// lent), without giving it back: the next fill takes another one.
func (p *parkReader) disown() {
	if p.lent {
		p.buf, p.lent = nil, false
	}
}

// fill reads what the source has into an empty buffer, flagged as waiting
// in progress from before the wait to after the read, and counts the bytes.
func (p *parkReader) fill() error {
	p.progress.Add(progressWaiting)
	err := p.refill()
	p.progress.Add(uint64(p.w)<<1 - progressWaiting)
	return err
}

// refill does the work of fill. When the last fill did not fill the
// buffer, the socket was drained, so the next read would likely wait: the
// buffer is parked for the wait. When it did, more bytes are likely there
// and the buffer is kept, which saves the wait's system call on a busy
// connection. It leaves in p.w the number of bytes read (0 on an error).
func (p *parkReader) refill() error {
	p.disown()
	if !p.full && p.wait != nil {
		if p.try != nil && p.buf != nil {
			// The socket was drained a moment ago, but on a busy
			// connection more has come since: read it, keeping the buffer,
			// and park only if there is nothing.
			p.r, p.w = 0, 0
			n, err, done := p.try(p.buf)
			if done {
				p.w = int32(n)
				p.full = n == len(p.buf)
				if n > 0 {
					return nil // an error with bytes recurs on the next read
				}
				p.release()
				return err
			}
		}
		p.release()
		if err := p.wait(); err != nil {
			return err
		}
	}
	if p.buf == nil {
		p.buf = getBuf(int(p.size))
	}
	p.r, p.w = 0, 0
	for tries := 0; tries < 100; tries++ {
		n, err := p.src.Read(p.buf)
		if n > 0 {
			p.w = int32(n)
			p.full = n == len(p.buf)
			return nil // an error with bytes recurs on the next read
		}
		p.full = false
		if err != nil {
			p.release() // the stream ended or failed: nothing more to hold
			return err
		}
	}
	return io.ErrNoProgress
}

// readProgress returns the bytes read from src so far and whether a read
// or a wait for src is under way. Safe from any goroutine.
func (p *parkReader) readProgress() (received uint64, waiting bool) {
	v := p.progress.Load()
	return v >> 1, v&progressWaiting != 0
}
