package websocket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/tether-go/tether/transport"
)

// writer owns the output of one connection. Every frame (data, ping, pong,
// close) goes through it, in the order it was accepted.
//
// It is a queue in front of the network connection, not a lock around it.
// A sender encodes and masks its frame into pending under mu: a short
// append, never I/O. Exactly one goroutine at a time holds the flusher
// role and writes to the network: it swaps pending with the spare half of
// the buffer and writes that half with mu released, while others keep
// appending to the new pending. A sender that finds the role taken returns
// at once: its frame goes out with the next batch.
//
// A sender that finds the role free takes it. On a quiet connection it
// writes the batch (its own frame) itself, before it returns, so a lone
// message costs one write and no goroutine hop. When other senders are
// busy too, or when it comes back sooner after the last write than that
// write took (a loop sending back to back, see streaming), it hands the
// role to a flushing goroutine (flushLoop) and returns: then the frames of
// every sender share write system calls, one per batch. flushLoop writes
// batches until pending is empty and ends, so it exists only while a
// backlog does.
//
// A holder done with its own batch hands the role on: to the goroutines
// waiting (for room, for the role, for their batch), or, when frames came
// in meanwhile and nobody waits, to a flushLoop.
//
// A frame that does not fit in an empty half (a large message) is streamed
// by the role holder through the spare half, in chunks, after the batch
// pending held. A sender that finds no room waits for the next swap,
// honouring its ctx: that is the backpressure, at one half of the buffer.
//
// A sender's ctx bounds its own wait, never the connection, and it is
// never a write deadline. A sender holding the role may be blocked in a
// network write when its ctx ends: the write is then cut short (see
// netWrite and cutConn: the write deadline is set in the past, and the
// bytes not written are kept by the connection, not reported as an
// error), the sender hands the role to a flushing goroutine and returns.
// That goroutine writes, before anything else, what the connection kept
// and the rest of a large frame the sender had begun (from a copy of the
// payload, the caller's not being kept), then the batches as usual (see
// catchUp). A sender streaming a large frame also stops between chunks
// once its ctx has ended. Whether the sender's frame counts as sent
// depends on where it was: if it was in the batch being written, or a
// large frame of which some bytes had gone into a write, it is committed
// and Write returns nil; if the sender was still writing the frames queued
// before its own, its frame is not queued and Write returns the ctx error.
//
// The reader never writes and never waits: a pong it owes is appended to
// pending (or, when pending is full, kept in pong until the next swap, only
// the latest) and a flushLoop is started if nobody holds the role.
type writer struct {
	c *conn

	mu sync.Mutex
	// Guarded by mu.
	buf         []byte        // both halves; nil while parked (idle, see park)
	half        int           // size of each half
	pending     []byte        // frames encoded and masked, waiting for the next write
	spare       []byte        // the other half of the buffer; nil while the holder writes it
	batch       uint64        // number of the batch pending holds (the first is 1)
	written     uint64        // number of the last batch written in full
	wroteNone   bool          // the last batch write failed before writing a byte
	flushing    bool          // the flusher role is taken
	active      atomic.Int32  // goroutines in send (changed without mu)
	lastEnd     time.Time     // when the last batch write ended
	tookAvg     time.Duration // moving average of how long batch writes take
	waiters     int           // goroutines in wait
	roleWaiters int           // of them, those that need the role (large frames)
	wake        chan struct{} // closed at every swap and write; nil while nobody waits
	closed      bool          // a close frame is queued: nothing more is accepted
	owed        bool          // a pong did not fit in pending: pong holds it
	pong        []byte        // the payload of the pong owed; its array is made the first time one is (rarely)
	masks       uint64        // random bits for the next masking key, when spareMask is set
	spareMask   bool          // masks holds an unused key in its high half (see appendFrame)
	behind      bool          // cc may keep bytes of a cut write: the flushing goroutine drains them first
	rest        largeRest     // a large frame it finishes first, when rest.p is not nil

	// Used only by the goroutine holding the flusher role (handed on under
	// mu).
	deadline time.Time // write deadline currently set on the connection

	// Set by Dial before the connection is used, then read only.
	cc *cutConn // the connection as dialled, under TLS; nil for one made by a test
}

// minHalf is the smallest half of the write buffer: any control frame
// fits in an empty one.
const minHalf = 256

// Errors of wait; callers turn them into their own.
var (
	errExpired = errors.New("tether/websocket: timed out waiting to write")
	errEnded   = errors.New("tether/websocket: connection ended")
)

// init splits one buffer of size bytes (at least 2*minHalf) in two halves:
// pending and spare.
func (w *writer) init(c *conn, size int) {
	w.c = c
	w.half = max(size/2, minHalf)
	w.batch = 1
}

// ensureBuf gives the writer its buffer back, under mu, when it was parked
// (see park). Every path that queues a frame calls it first.
func (w *writer) ensureBuf() {
	if w.buf != nil {
		return
	}
	w.buf = getBuf(2 * w.half)
	w.pending = w.buf[:0:w.half]
	w.spare = w.buf[w.half:w.half]
}

// park returns the buffer to freeBufs, under mu, when nothing is queued, no
// batch is being written and nobody waits: an idle connection then holds
// no write buffer. The next frame takes one again (ensureBuf).
func (w *writer) park() {
	if w.buf == nil || w.flushing || w.waiters > 0 || len(w.pending) > 0 || w.owed || w.spare == nil {
		return
	}
	putBuf(w.buf)
	w.buf, w.pending, w.spare = nil, nil, nil
}

// freeBufs keeps a few parked write buffers for the next connection that
// needs one, by size. It is bounded, so the buffers of many idle
// connections go back to the garbage collector rather than pile up here;
// unlike a sync.Pool it is deterministic, so steady writing allocates
// nothing.
var freeBufs struct {
	sync.Mutex
	bySize map[int][][]byte
}

// maxFreeBufs bounds freeBufs per size.
const maxFreeBufs = 64

func getBuf(n int) []byte {
	freeBufs.Lock()
	if l := freeBufs.bySize[n]; len(l) > 0 {
		b := l[len(l)-1]
		l[len(l)-1] = nil
		freeBufs.bySize[n] = l[:len(l)-1]
		freeBufs.Unlock()
		return b
	}
	freeBufs.Unlock()
	return make([]byte, n)
}

func putBuf(b []byte) {
	b = b[:cap(b)]
	freeBufs.Lock()
	defer freeBufs.Unlock()
	if freeBufs.bySize == nil {
		freeBufs.bySize = make(map[int][][]byte)
	}
	if l := freeBufs.bySize[len(b)]; len(l) < maxFreeBufs {
		freeBufs.bySize[len(b)] = append(l, b)
	}
}

// Write sends one Text or Binary message as a single masked frame. See
// [transport.Conn.Write]. With permessage-deflate in use (see
// [WithCompression]), a message of at least the threshold is deflated
// first and its frame has RSV1 set; [WriteUncompressed] never deflates. A nil error means the frame is accepted: written
// to the network by this call, queued behind a write in progress, in
// order, to go out with the next batch, or committed (see below); see the
// package documentation, Writing.
//
// ctx bounds this call's wait, never the connection, and it is not a write
// deadline:
//
//   - If ctx ends before the frame is accepted (while Write waits for room
//     in the queue or for its turn to stream a large frame, or while it
//     writes the frames queued before its own), Write returns an error
//     matching ctx.Err() and nothing of the frame is ever written.
//   - If ctx ends after the frame is accepted (it is in the batch being
//     written, or a large frame has started going out), the frame is
//     committed: Write returns nil without waiting for the network, and a
//     flushing goroutine writes the rest of it, with no deadline. For a
//     large frame that rest is copied from the payload, which is not kept
//     after Write returns; only this case copies. The connection stays
//     up, and the frames of other senders follow it in order.
//
// A ctx that ends never fails the connection; only a network error does
// (then Write returns that error, which does not match ctx.Err() nor
// [transport.ErrClosed], and the connection ends). Interrupting a write
// that is blocked relies on the write deadline of the connection dialled
// (see [WithNetDial]).
//
// Safe for concurrent use.
func (c *conn) Write(ctx context.Context, typ transport.MessageType, payload []byte) error {
	if !typ.IsData() {
		return fmt.Errorf("tether/websocket: write %s message: %w", typ, transport.ErrUnsupported)
	}
	if c.fl != nil {
		return c.writeCompressed(ctx, typ, payload)
	}
	return c.w.send(ctx, "write", ws.OpCode(typ), payload)
}

// Ping sends a ping frame carrying payload (at most 125 bytes; a longer one
// returns an error matching [transport.ErrMessageTooLarge]). Like Write, it
// returns once the frame is accepted, and ctx bounds its wait the same way.
// The pong comes back through Read.
//
// Safe for concurrent use.
func (c *conn) Ping(ctx context.Context, payload []byte) error {
	if len(payload) > ws.MaxControlFramePayloadSize {
		return fmt.Errorf("tether/websocket: ping payload of %d bytes: %w", len(payload), transport.ErrMessageTooLarge)
	}
	return c.w.send(ctx, "ping", ws.OpPing, payload)
}

// send queues one frame for a caller of Write or Ping and, on a quiet
// connection, writes it before it returns (see writer). It runs on the
// caller's goroutine.
func (w *writer) send(ctx context.Context, op string, code ws.OpCode, p []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tether/websocket: %s: %w", op, err)
	}
	w.active.Add(1)
	defer w.active.Add(-1)
	size := frameSize(len(p))
	own := false // this goroutine holds the flusher role
	w.mu.Lock()
	for {
		if err := w.usable(op); err != nil {
			if own {
				w.releaseRole()
			} else {
				w.handOn()
			}
			w.mu.Unlock()
			return err
		}
		w.ensureBuf()
		if size <= cap(w.pending)-len(w.pending) {
			break
		}
		if own || !w.flushing {
			// No room, and nobody else writes: this goroutine does.
			if !own {
				own, w.flushing = true, true
			}
			if size > cap(w.pending) {
				return w.sendLarge(ctx, op, code, p) // unlocks
			}
			cut, err := w.flushOnce(ctx, time.Time{})
			if err != nil {
				// The batch ahead of this frame failed: the frame was
				// never queued.
				w.mu.Unlock()
				return w.failedBefore(op, err)
			}
			if cut {
				// ctx ended while this goroutine wrote the frames queued
				// before its own: a flushing goroutine finishes them, and
				// its own frame is not queued.
				w.behind = true
				w.startFlusher()
				w.mu.Unlock()
				return fmt.Errorf("tether/websocket: %s: %w", op, ctx.Err())
			}
		} else if err := w.wait(ctx.Done(), nil, size > cap(w.pending)); err != nil {
			w.mu.Unlock()
			if errors.Is(err, errEnded) {
				return w.c.closedError(op)
			}
			return fmt.Errorf("tether/websocket: %s: %w", op, ctx.Err())
		}
		if err := ctx.Err(); err != nil {
			// Its turn came too late: queue nothing.
			if own {
				w.releaseRole()
			} else {
				w.handOn()
			}
			w.mu.Unlock()
			return fmt.Errorf("tether/websocket: %s: %w", op, err)
		}
	}
	w.pending = w.appendFrame(w.pending, code, p)
	switch {
	case !own && w.flushing:
		w.mu.Unlock()
		return nil // the holder of the role, or its successor, writes it
	case w.streaming():
		// Leave the write to a flushing goroutine (or to the waiters),
		// so that this sender and the others keep queueing.
		if !own {
			w.flushing = true
			w.startFlusher()
		} else {
			w.releaseRole()
		}
		w.mu.Unlock()
		return nil
	}
	w.flushing = true
	cut, err := w.flushOnce(ctx, time.Time{})
	if err != nil {
		none := w.wroteNone
		w.mu.Unlock()
		if none {
			return w.failedBefore(op, err) // not a byte of the batch went out
		}
		return w.writeFailed(op, err)
	}
	if cut {
		// ctx ended while the batch holding the frame was written: the
		// frame is accepted, and a flushing goroutine writes the rest.
		w.behind = true
		w.startFlusher()
	} else {
		w.releaseRole()
	}
	w.mu.Unlock()
	return nil
}

// failedBefore ends the connection after a network write error on the
// caller's goroutine that came before any byte of the caller's frame was
// written (the batch ahead of it failed, or nothing of the batch holding
// it went out), and returns an error matching transport.ErrClosed, with
// the network's error in the chain: the message was not sent, and may be
// sent again on another connection.
func (w *writer) failedBefore(op string, err error) error {
	w.fail(err)
	return fmt.Errorf("tether/websocket: %s: %w: %w", op, transport.ErrClosed, err)
}

// writeFailed ends the connection after a network write error on the
// caller's goroutine (a frame may have gone out in part, so nothing more
// may be written) and returns the caller's error: not ErrClosed, since
// bytes may have left. A caller's ctx never causes one (see netWrite).
func (w *writer) writeFailed(op string, err error) error {
	w.fail(err)
	return fmt.Errorf("tether/websocket: %s: %w", op, err)
}

// usable reports, under mu, whether data and pings may still be queued.
func (w *writer) usable(op string) error {
	if w.closed {
		return w.c.closedError(op)
	}
	select {
	case <-w.c.done:
		return w.c.closedError(op)
	default:
		return nil
	}
}

// frameSize is the length of a masked frame carrying n payload bytes.
func frameSize(n int) int {
	switch {
	case n <= 125:
		return 2 + 4 + n
	case n <= 0xffff:
		return 4 + 4 + n
	default:
		return 10 + 4 + n
	}
}

// appendHeader appends the header of a final, masked frame.
func appendHeader(b []byte, op ws.OpCode, n int, mask [4]byte) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, mask[:]...)
}

// appendFrame appends a final, masked frame carrying a masked copy of p;
// p itself is not modified. b has room for it (see frameSize). Under mu.
//
// Each frame gets a fresh masking key from the runtime's generator
// (ChaCha8, seeded by the operating system: unpredictable, as RFC 6455
// section 5.3 asks); one 64-bit draw makes the keys of two frames, which
// halves what the keys cost a stream of small messages.
func (w *writer) appendFrame(b []byte, op ws.OpCode, p []byte) []byte {
	var mask [4]byte
	if w.spareMask {
		binary.BigEndian.PutUint32(mask[:], uint32(w.masks>>32))
		w.spareMask = false
	} else {
		w.masks = rand.Uint64()
		binary.BigEndian.PutUint32(mask[:], uint32(w.masks))
		w.spareMask = true
	}
	b = appendHeader(b, op, len(p), mask)
	start := len(b)
	b = append(b, p...)
	ws.Cipher(b[start:], mask, 0)
	return b
}

// fail ends the connection after a write error: a frame may have gone out
// in part, so the stream cannot be trusted any more.
func (w *writer) fail(err error) {
	w.c.end(&transport.CloseError{Code: transport.StatusAbnormalClosure, Err: err})
}
