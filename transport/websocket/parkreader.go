package websocket

import (
	"io"
)

// parkReader is the buffered reader of a connection. Its buffer goes back to
// the free list (see getBuf) whenever it is empty and the next read would
// wait for the network, and comes back when bytes arrive: an idle
// connection holds no read buffer. That needs a way to wait for the socket
// to be readable without reading it (wait); without one (TLS, a custom
// NetDial) the buffer is kept, as a bufio.Reader would.
//
// Only the reader goroutine (or Close, under readMu) uses it.
type parkReader struct {
	src  io.Reader
	wait func() error // waits until src has bytes; nil when it cannot
	size int
	buf  []byte
	r, w int
	full bool // the last fill filled the buffer: the socket likely has more
}

func newParkReader(src io.Reader, wait func() error, size int) *parkReader {
	p := &parkReader{src: src, wait: wait, size: size}
	if wait == nil {
		p.buf = make([]byte, size)
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
		if len(b) >= p.size {
			// Straight into b: no buffer is held while this blocks.
			p.release()
			return p.src.Read(b)
		}
		if err := p.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(b, p.buf[p.r:p.w])
	p.r += n
	return n, nil
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
		k := min(n-done, p.w-p.r)
		p.r += k
		done += k
	}
	return done, nil
}

// release gives the empty buffer back, when the reader can wait without
// one.
func (p *parkReader) release() {
	if p.wait != nil && p.buf != nil {
		putBuf(p.buf)
		p.buf = nil
	}
	p.r, p.w = 0, 0
}

// fill reads what the source has into an empty buffer. When the last fill
// did not fill the buffer, the socket was drained, so the next read would
// likely wait: the buffer is parked for the wait. When it did, more bytes
// are likely there and the buffer is kept, which saves the wait's system
// call on a busy connection.
func (p *parkReader) fill() error {
	if !p.full && p.wait != nil {
		p.release()
		if err := p.wait(); err != nil {
			return err
		}
	}
	if p.buf == nil {
		p.buf = getBuf(p.size)
	}
	p.r, p.w = 0, 0
	for tries := 0; tries < 100; tries++ {
		n, err := p.src.Read(p.buf)
		if n > 0 {
			p.w = n
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
