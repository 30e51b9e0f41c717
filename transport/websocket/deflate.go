package websocket

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/tether-go/tether/transport"
)

// rsv1 is the "compressed" bit of a message's first frame, as a flag on
// the opcode byte that appendHeader writes (0x80 | op): the writer carries
// it to the header without knowing about compression.
const rsv1 ws.OpCode = 0x40

// deflateTail ends every compressed message on the wire: the empty stored
// block of a sync flush, which RFC 7692 removes from the payload. The
// receiver puts it back, then an empty final stored block so that
// compress/flate reports the end of the message as io.EOF.
var inflateTail = [...]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}

// deflate is the permessage-deflate state of one connection.
type deflate struct {
	n     Negotiated
	level int
	min   int // messages shorter than this go out uncompressed

	// Read side, used under readMu only.
	window []byte // the last bytes inflated, the server's context; nil without takeover
	zbuf   []byte // compressed fragments of the message being assembled
	zlen   int64  // compressed bytes of the message being assembled
	on     bool   // the message being assembled is compressed
	src    inflateSource

	// Write side. With client context takeover, mu orders compression
	// with queueing, and fw is the connection's writer.
	mu sync.Mutex
	fw *flate.Writer
	zw bytes.Buffer // fw's output, under mu
}

func newDeflate(cfg *Compression, n Negotiated) *deflate {
	return &deflate{n: n, level: cfg.Level, min: cfg.Threshold}
}

// Compression reports the negotiated permessage-deflate parameters. Safe
// from any goroutine.
func (c *conn) Compression() (Negotiated, bool) {
	if c.fl == nil {
		return Negotiated{}, false
	}
	return c.fl.n, true
}

// CompressionOf returns the permessage-deflate parameters in force on c, or
// ok false when c (or the Conn it wraps, see [transport.Wrapper]) is not a
// connection of this package or compression is not in use.
func CompressionOf(c transport.Conn) (n Negotiated, ok bool) {
	if cc := compressorOf(c); cc != nil {
		return cc.Compression()
	}
	return Negotiated{}, false
}

// WriteUncompressed writes a message that goes out uncompressed whatever
// was negotiated (see [Compressor]); on a Conn that is not of this package
// (nor wraps one), it is c.Write.
func WriteUncompressed(ctx context.Context, c transport.Conn, typ transport.MessageType, payload []byte) error {
	if cc := compressorOf(c); cc != nil {
		return cc.WriteUncompressed(ctx, typ, payload)
	}
	return c.Write(ctx, typ, payload)
}

// compressorOf follows c's Unwrap chain (at most 64 links) to a Compressor.
func compressorOf(c transport.Conn) Compressor {
	for range 64 {
		if cc, ok := c.(Compressor); ok {
			return cc
		}
		w, ok := c.(transport.Wrapper)
		if !ok {
			return nil
		}
		if c = w.Unwrap(); c == nil {
			return nil
		}
	}
	return nil
}

// WriteUncompressed is Write without compression. See [Compressor].
//
// Safe for concurrent use.
func (c *conn) WriteUncompressed(ctx context.Context, typ transport.MessageType, payload []byte) error {
	if !typ.IsData() {
		return fmt.Errorf("tether/websocket: write %s message: %w", typ, transport.ErrUnsupported)
	}
	return c.w.send(ctx, "write", ws.OpCode(typ), payload)
}

// writers and readers pool compress/flate state across connections: a
// connection without client context takeover borrows a writer for one
// message, and every connection borrows a reader for one message.
var (
	writers [flate.BestCompression + 3]sync.Pool // by level + 2 (HuffmanOnly is -2, DefaultCompression -1)
	readers sync.Pool
)

// compress returns p deflated as RFC 7692 sends it (the sync flush's tail
// removed), in a buffer from compressBufs, or ok false when p goes out
// uncompressed: shorter than the threshold, or longer than a window the
// server limited. Without context takeover it runs on the caller's
// goroutine, outside every lock.
func (f *deflate) compressAlone(p []byte) (out *bytes.Buffer, ok bool) {
	if f.n.ClientMaxWindowBits < 15 && len(p) > 1<<f.n.ClientMaxWindowBits {
		return nil, false
	}
	out = compressBufs.Get().(*bytes.Buffer)
	out.Reset()
	pool := &writers[f.level+2]
	fw, _ := pool.Get().(*flate.Writer)
	if fw == nil {
		fw, _ = flate.NewWriter(out, f.level) // the level was checked by WithCompression
	} else {
		fw.Reset(out)
	}
	_, _ = fw.Write(p) // a bytes.Buffer does not fail
	_ = fw.Flush()
	pool.Put(fw)
	out.Truncate(out.Len() - 4)
	return out, true
}

var compressBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putCompressBuf returns a buffer of compressAlone, unless it grew large.
func putCompressBuf(b *bytes.Buffer) {
	if b.Cap() <= retainLimit {
		compressBufs.Put(b)
	}
}

// writeCompressed is Write for a connection with permessage-deflate.
func (c *conn) writeCompressed(ctx context.Context, typ transport.MessageType, payload []byte) error {
	f := c.fl
	if len(payload) < f.min {
		return c.w.send(ctx, "write", ws.OpCode(typ), payload)
	}
	if f.n.ClientNoContextTakeover || f.n.ClientMaxWindowBits < 15 {
		out, ok := f.compressAlone(payload)
		if !ok {
			return c.w.send(ctx, "write", ws.OpCode(typ), payload)
		}
		err := c.w.send(ctx, "write", ws.OpCode(typ)|rsv1, out.Bytes())
		putCompressBuf(out)
		return err
	}
	// Context takeover: the peer inflates messages in the order they are
	// compressed, so compressing and queueing happen under one lock.
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fw == nil {
		f.fw, _ = flate.NewWriter(&f.zw, f.level)
	}
	f.zw.Reset()
	_, _ = f.fw.Write(payload)
	_ = f.fw.Flush()
	err := c.w.send(ctx, "write", ws.OpCode(typ)|rsv1, f.zw.Bytes()[:f.zw.Len()-4])
	if err != nil {
		// Not queued (or not all written): the peer's context does not
		// hold this message. A fresh compressor refers to nothing before
		// it, which any peer's context can inflate.
		f.fw.Reset(&f.zw)
	}
	if f.zw.Cap() > retainLimit {
		f.zw = bytes.Buffer{}
	}
	return err
}

// inflate inflates the compressed message whose earlier fragments are in
// zbuf and whose last frame has n payload bytes still on the network, into
// c.buf, and updates the window. The output is bounded as it is produced:
// past the message size limit it stops and returns errInflatedTooLarge, so
// a small frame that would inflate to gigabytes costs the limit's worth of
// work and memory at most. Bad deflate data returns a flate error;
// network reports an error of the network instead. The rest of the frame is
// read (or discarded) before inflate returns on success, so the stream
// stays in step. It runs under readMu.
func (c *conn) inflate(n int64) (network bool, err error) {
	f := c.fl
	f.src = inflateSource{pre: f.zbuf, rd: c.rd, n: n, tail: inflateTail[:]}
	src := &f.src
	fr, _ := readers.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReaderDict(src, f.dict())
	} else if err := fr.(flate.Resetter).Reset(src, f.dict()); err != nil {
		return false, err
	}
	defer readers.Put(fr)
	limit := c.opts.maxMessageSize
	compressed := int64(len(f.zbuf)) + n
	for err == nil {
		if len(c.buf) == cap(c.buf) {
			if int64(len(c.buf)) >= limit {
				// Full to the limit: one more byte is too many.
				var one [1]byte
				var k int
				if k, err = fr.Read(one[:]); k > 0 {
					return false, errInflatedTooLarge
				}
				continue
			}
			c.growInflated(compressed)
		}
		var k int
		k, err = fr.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+k]
	}
	if src.err != nil {
		return true, src.err
	}
	if err != io.EOF {
		return false, err
	}
	// A final block before the end of the payload ends the deflate stream
	// early: what follows it is skipped.
	if err := c.discard(src.n); err != nil {
		return true, err
	}
	if !f.n.ServerNoContextTakeover {
		f.keep(c.buf)
	}
	return false, nil
}

// growInflated makes room in c.buf for more inflated bytes: at first for
// four times the compressed size (JSON inflates about that much), then
// doubling, never past the message size limit.
func (c *conn) growInflated(compressed int64) {
	newCap := max(2*int64(cap(c.buf)), 4*compressed, minBuffer)
	newCap = min(newCap, c.opts.maxMessageSize)
	nb := make([]byte, len(c.buf), newCap)
	copy(nb, c.buf)
	c.buf = nb
}

// errInflatedTooLarge is inflate's error for output past the limit.
var errInflatedTooLarge = fmt.Errorf("%w: inflated past the message size limit", transport.ErrMessageTooLarge)

// keep appends out to the window, which holds the last 2^bits bytes
// inflated (at least 512: zlib uses a 512-byte window when asked for 256)
// and up to an eighth more, so that the bytes kept move once per eighth of
// a window received rather than at every message.
func (f *deflate) keep(out []byte) {
	size := 1 << max(f.n.ServerMaxWindowBits, 9)
	limit := size + size/8
	if len(out) >= size {
		f.window = append(f.window[:0], out[len(out)-size:]...)
		return
	}
	if len(f.window)+len(out) > limit {
		kept := size - len(out) // of the bytes before out, those the window still needs
		f.window = f.window[:copy(f.window, f.window[len(f.window)-kept:])]
	}
	if need := len(f.window) + len(out); need > cap(f.window) {
		w := make([]byte, len(f.window), min(max(2*cap(f.window), need), limit))
		copy(w, f.window)
		f.window = w
	}
	f.window = append(f.window, out...)
}

// dict is the window as compress/flate takes it: its last 2^bits bytes.
func (f *deflate) dict() []byte {
	size := 1 << max(f.n.ServerMaxWindowBits, 9)
	return f.window[max(0, len(f.window)-size):]
}

// inflateSource feeds compress/flate one compressed message: the earlier
// fragments (pre), the rest of the last frame from the network (n bytes),
// then the tail that RFC 7692 removed and a final empty block. It is an
// io.ByteReader, so compress/flate reads no further than it needs, and
// never past the frame.
type inflateSource struct {
	pre  []byte
	rd   *parkReader
	n    int64
	tail []byte
	err  error // a network error, kept for inflate to report as such
	one  [1]byte
}

func (s *inflateSource) Read(p []byte) (int, error) {
	switch {
	case len(p) == 0:
		return 0, nil
	case len(s.pre) > 0:
		k := copy(p, s.pre)
		s.pre = s.pre[k:]
		return k, nil
	case s.n > 0:
		if int64(len(p)) > s.n {
			p = p[:s.n]
		}
		k, err := s.rd.Read(p)
		s.n -= int64(k)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			s.err = err
		}
		return k, err
	case len(s.tail) > 0:
		k := copy(p, s.tail)
		s.tail = s.tail[k:]
		return k, nil
	default:
		return 0, io.EOF
	}
}

func (s *inflateSource) ReadByte() (byte, error) {
	if len(s.pre) > 0 {
		b := s.pre[0]
		s.pre = s.pre[1:]
		return b, nil
	}
	if s.n > 0 {
		if r := s.rd; r.r < r.w {
			b := r.buf[r.r]
			r.r++
			s.n--
			return b, nil
		}
	}
	if _, err := s.Read(s.one[:]); err != nil {
		return 0, err
	}
	return s.one[0], nil
}

// checkRsv checks the reserved bits of a frame on a connection with
// permessage-deflate: RSV1 only, and only on the first frame of a data
// message (RFC 7692, section 6). Anything else is a protocol error.
func checkRsv(h ws.Header) error {
	r1, r2, r3 := ws.RsvBits(h.Rsv)
	switch {
	case r2 || r3:
		return fmt.Errorf("%w: %w", transport.ErrProtocol, ws.ErrProtocolNonZeroRsv)
	case r1 && h.OpCode.IsControl():
		return fmt.Errorf("%w: RSV1 set on a control frame: %w", transport.ErrProtocol, wsflate.ErrUnexpectedCompressionBit)
	case r1 && h.OpCode == ws.OpContinuation:
		return fmt.Errorf("%w: RSV1 set on a continuation frame: %w", transport.ErrProtocol, wsflate.ErrUnexpectedCompressionBit)
	}
	return nil
}

// compressedLimit bounds the compressed bytes of one inbound message: the
// message size limit, plus room for the framing deflate adds to data that
// does not compress (5 bytes per stored block of up to 64 KiB; 1 in 1,024
// is ample).
func compressedLimit(limit int64) int64 { return limit + limit/1024 + 64 }

// readCompressed reads a data frame of a compressed message, under readMu.
// A frame before the last is kept compressed in zbuf (more is true: read
// the next frame); the last one is inflated from the network as it is
// read, after the frames kept. Control frames between the fragments are
// read by Read as usual, so a ping inside a compressed message is answered
// at once.
func (c *conn) readCompressed(h ws.Header) (m transport.Message, more bool, err error) {
	f := c.fl
	if !c.frag {
		f.on, f.zlen = true, 0
		f.zbuf = f.zbuf[:0]
		if cap(f.zbuf) > retainLimit {
			f.zbuf = nil
		}
		c.msgOp = h.OpCode
	}
	f.zlen += h.Length
	if h.Length > c.opts.maxFrameSize || f.zlen > compressedLimit(c.opts.maxMessageSize) {
		m, err = c.failWith(transport.StatusMessageTooBig, fmt.Errorf(
			"%w: compressed frame of %d bytes, %d in the message (limits: frame %d, message %d)",
			transport.ErrMessageTooLarge, h.Length, f.zlen, c.opts.maxFrameSize, c.opts.maxMessageSize))
		return m, false, err
	}
	if !h.Fin {
		for n := h.Length; n > 0; {
			k := int(min(n, 64<<10))
			f.zbuf = slices.Grow(f.zbuf, k)
			start := len(f.zbuf)
			f.zbuf = f.zbuf[:start+k]
			if _, err := io.ReadFull(c.rd, f.zbuf[start:]); err != nil {
				f.zbuf = f.zbuf[:start]
				m, err = c.readFailed(err)
				return m, false, err
			}
			n -= int64(k)
		}
		c.frag = true
		return transport.Message{}, true, nil
	}
	c.frag, f.on = false, false
	if network, err := c.inflate(h.Length); err != nil {
		switch {
		case network:
			m, err = c.readFailed(err)
		case errors.Is(err, transport.ErrMessageTooLarge):
			m, err = c.failWith(transport.StatusMessageTooBig, err)
		default:
			m, err = c.failWith(transport.StatusInvalidPayloadData, fmt.Errorf("%w: %w", ErrInflate, err))
		}
		return m, false, err
	}
	if c.msgOp == ws.OpText {
		c.utf8Done = 0
		if !c.checkUTF8(true) {
			m, err = c.failWith(transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8)
			return m, false, err
		}
	}
	return transport.Message{Type: transport.MessageType(c.msgOp), Payload: c.buf}, false, nil
}
