package websocket

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/gobwas/ws"
)

// The flusher role: one goroutine at a time writes to the network
// connection. It is taken under mu by setting flushing, and handed on by
// releaseRole. Everything below that says "role held" runs on that
// goroutine.

// hasWork reports, under mu, whether something waits to be written.
func (w *writer) hasWork() bool { return len(w.pending) > 0 || w.owed }

// flushOnce writes the pending batch: it swaps pending with the spare half
// and writes that half with mu released, so that others keep queueing
// meanwhile. ctx is that of the sender writing (context.Background for
// none, see netWrite) and dl the write deadline (zero for none). Called
// with mu held and the role held; returns with mu held. cut reports that
// ctx ended and the write was cut short (see netWrite): the batch counts
// as written, and the caller must hand the role to a flushing goroutine
// with behind set. After an error the role is kept: the connection is
// failing and nothing more may be written.
func (w *writer) flushOnce(ctx context.Context, dl time.Time) (cut bool, err error) {
	b := w.pending
	w.pending, w.spare = w.spare[:0], nil
	if w.owed {
		if !w.closed {
			w.pending = w.appendFrame(w.pending, ws.OpPong, w.pong)
		}
		w.owed = false
	}
	id := w.batch
	w.batch++
	w.broadcast() // room in pending
	w.mu.Unlock()

	var (
		start, end time.Time
		n          int
	)
	if len(b) > 0 {
		start = time.Now()
		if err = w.setDeadline(dl); err == nil {
			cut, n, err = w.netWrite(ctx, b)
		}
		end = time.Now()
	}

	w.mu.Lock()
	w.spare = b[:0]
	w.wroteNone = err != nil && n == 0
	if err == nil {
		w.written = id
	}
	if !end.IsZero() {
		// A moving average, so that one slow write does not switch a
		// sender that waits for replies to queueing.
		w.lastEnd = end
		w.tookAvg += (end.Sub(start) - w.tookAvg) / 8
	}
	w.broadcast()
	return cut, err
}

// netWrite writes b to the network for the holder of the role. ctx is the
// ctx of the sender writing (context.Background for the flushing goroutine
// and for close frames); it is not a write deadline. When it ends while
// the write is blocked, the write is cut short (see cutConn), which is not
// an error: the connection keeps the bytes not yet written, and cut
// reports that a flushing goroutine must write them (see catchUp). A ctx
// that cannot end, such as context.Background, costs nothing here; another
// one costs a few field updates, and a context.AfterFunc (an allocation)
// only when the write blocks (see cutConn.blocked).
func (w *writer) netWrite(ctx context.Context, b []byte) (cut bool, n int, err error) {
	if w.cc == nil || !canEnd(ctx) {
		n, err = w.c.nc.Write(b)
		return false, n, err
	}
	w.cc.arm(ctx)
	n, err = w.c.nc.Write(b)
	return w.cc.disarm(), n, err
}

// canEnd reports whether ctx may end. It asks Done only of a ctx without
// a deadline: Done makes the channel of a ctx that has none yet, which
// would cost a ctx made for one Write an allocation.
func canEnd(ctx context.Context) bool {
	if _, ok := ctx.Deadline(); ok {
		return true
	}
	return ctx.Done() != nil
}

// largeRest is what remains of a large frame whose sender's ctx ended
// while it was streamed: the flushing goroutine writes it before anything
// else (see catchUp).
type largeRest struct {
	p     []byte // the payload not yet masked: a copy, the caller's is not kept
	off   int    // offset of p in the payload, for the mask
	mask  [4]byte
	batch uint64 // the batch the frame ends
}

// sendLarge writes a frame larger than half the buffer: the pending batch
// first, then the frame, masked chunk by chunk into the spare half (see
// stream). The caller holds the role and mu; sendLarge releases both.
//
// The frame is accepted once its first bytes go out with a write. If ctx
// ends before (while the batch before it is written alone), the frame is
// not sent and sendLarge returns the ctx error; if it ends after, the
// frame is finished by a flushing goroutine, from a copy of the rest of
// the payload, and sendLarge returns nil.
func (w *writer) sendLarge(ctx context.Context, op string, code ws.OpCode, p []byte) error {
	b := w.pending
	w.pending, w.spare = w.spare[:0], nil
	id := w.batch
	w.batch++
	w.broadcast()
	w.mu.Unlock()

	var cut bool
	err := w.setDeadline(time.Time{})
	if err == nil && cap(b)-len(b) < frameSize(len(p))-len(p) {
		// The header does not fit after the batch: the batch goes alone.
		cut, _, err = w.netWrite(ctx, b)
		b = b[:0]
		if err != nil {
			// Nothing of the frame went out.
			w.mu.Lock()
			w.spare = b
			w.broadcast()
			w.mu.Unlock()
			return w.failedBefore(op, err)
		}
		if err == nil && (cut || ctx.Err() != nil) {
			w.mu.Lock()
			w.spare = b
			w.written = id
			w.broadcast()
			if cut {
				w.behind = true
				w.startFlusher()
			} else {
				w.releaseRole()
			}
			w.mu.Unlock()
			return fmt.Errorf("tether/websocket: %s: %w", op, ctx.Err())
		}
	}
	mask := ws.NewMask()
	i := 0
	if err == nil {
		var c bool
		b = appendHeader(b, code, len(p), mask)
		b, i, c, err = w.stream(ctx, b, p, 0, mask)
		cut = cut || c
	}
	var rest []byte
	if err == nil && i < len(p) {
		rest = bytes.Clone(p[i:]) // the caller's payload is not kept
	}

	w.mu.Lock()
	w.spare = b[:0]
	w.broadcast()
	if err != nil {
		w.mu.Unlock()
		return w.writeFailed(op, err)
	}
	if rest != nil {
		w.rest = largeRest{p: rest, off: i, mask: mask, batch: id}
	} else {
		w.written = id
	}
	if cut {
		w.behind = true
	}
	if rest != nil || cut {
		w.startFlusher() // it inherits the role
	} else {
		w.releaseRole()
	}
	w.mu.Unlock()
	return nil
}

// stream masks p, the payload of a frame from offset off on, into b chunk
// by chunk, and writes b whenever it is full, then once more at the end;
// role held, mu not held. ctx is the sender's (see netWrite): once it has
// ended, stream stops after a write, the sender having stopped waiting;
// then b is empty and p[i:] is what remains. cut reports that a write was
// cut short.
func (w *writer) stream(ctx context.Context, b, p []byte, off int, mask [4]byte) (_ []byte, i int, cut bool, err error) {
	for i < len(p) {
		if len(b) == cap(b) {
			var c bool
			c, _, err = w.netWrite(ctx, b)
			b = b[:0]
			cut = cut || c
			if err != nil || c || ctx.Err() != nil {
				return b, i, cut, err
			}
			continue
		}
		n := min(cap(b)-len(b), len(p)-i)
		start := len(b)
		b = append(b, p[i:i+n]...)
		ws.Cipher(b[start:], mask, off+i)
		i += n
	}
	if len(b) > 0 {
		var c bool
		c, _, err = w.netWrite(ctx, b)
		b = b[:0]
		cut = cut || c
	}
	return b, i, cut, err
}

// catchUp writes, role held and under mu (released while it writes), what
// a sender whose ctx ended left to the flushing goroutine: the rest of a
// large frame, and the bytes the connection kept from a cut write (see
// cutConn), which go out before anything else.
func (w *writer) catchUp() error {
	if w.rest.p != nil {
		r := w.rest
		w.rest = largeRest{}
		b := w.spare
		w.spare = nil
		w.mu.Unlock()
		err := w.setDeadline(time.Time{})
		if err == nil {
			b, _, _, err = w.stream(context.Background(), b, r.p, r.off, r.mask)
		}
		w.mu.Lock()
		w.spare = b[:0]
		w.broadcast()
		if err != nil {
			return err
		}
		w.written = r.batch
	}
	if w.behind {
		w.behind = false
		w.mu.Unlock()
		err := w.cc.drain()
		w.mu.Lock()
		return err
	}
	return nil
}

// releaseRole gives the role up, under mu, after the holder's own batch.
// When frames came in meanwhile, someone must write them: the goroutines
// waiting (for room, for the role, or for their batch) are woken and one of
// them takes the role; when nobody waits, a flushing goroutine does.
func (w *writer) releaseRole() {
	if !w.hasWork() || w.waiters > 0 {
		w.flushing = false
		w.broadcast()
		w.park()
		return
	}
	w.startFlusher() // it inherits the role
}

// handOn is called, under mu, by a goroutine that was woken or gave up
// waiting and leaves without taking the role. If it was the last waiter
// and the role is free with work left, a flushing goroutine takes it.
func (w *writer) handOn() {
	if !w.flushing && w.waiters == 0 && w.hasWork() {
		w.flushing = true
		w.startFlusher()
	}
}

// flushLoop finishes what a sender whose ctx ended left (see catchUp), then
// writes batches until nothing is pending, or until a sender of a large
// frame waits for the role. It runs on a goroutine of its own, started with
// the role held (see releaseRole), and ends by itself.
func (w *writer) flushLoop() {
	defer w.c.wg.Done()
	w.mu.Lock()
	err := w.catchUp()
	for err == nil && w.hasWork() && w.roleWaiters == 0 {
		_, err = w.flushOnce(context.Background(), time.Time{})
	}
	if err != nil {
		w.mu.Unlock()
		// Not under mu: closing a TLS connection may write an alert.
		w.fail(err)
		return
	}
	w.releaseRole()
	w.mu.Unlock()
}

// startFlusher starts flushLoop, which inherits the role held by the
// caller, under mu. Once the connection has ended there is nothing to
// write, and the role stays taken.
func (w *writer) startFlusher() {
	if w.c.track() {
		go w.flushLoop()
	}
}

// streaming reports, under mu, whether a sender that found the role free
// should leave the write to a flushing goroutine rather than write its
// batch itself: when other senders are busy too, or when this one comes
// back sooner after the last write than writes take (on average): a loop
// sending back to back. Queueing then lets the frames share write system calls;
// a sender on a quiet connection writes its own frame, which keeps the
// latency of a lone message at one write.
func (w *writer) streaming() bool {
	return w.active.Load() > 1 || time.Since(w.lastEnd) < w.tookAvg
}

// wait waits, under mu, for the holder of the role to make progress (a
// swap or a write), or for the role to be free; needRole says the caller
// needs the role itself. It gives up when ctxDone or expire fires (either
// may be nil) or the connection ends, returning context.Canceled,
// errExpired or errEnded; the caller then leaves without the role.
func (w *writer) wait(ctxDone <-chan struct{}, expire <-chan time.Time, needRole bool) error {
	if w.wake == nil {
		w.wake = make(chan struct{})
	}
	wake := w.wake
	w.waiters++
	if needRole {
		w.roleWaiters++
	}
	w.mu.Unlock()
	var err error
	select {
	case <-wake:
	case <-ctxDone:
		err = context.Canceled
	case <-expire:
		err = errExpired
	case <-w.c.done:
		err = errEnded
	}
	w.mu.Lock()
	w.waiters--
	if needRole {
		w.roleWaiters--
	}
	if err != nil {
		w.handOn()
	}
	return err
}

// broadcast wakes every waiter, under mu.
func (w *writer) broadcast() {
	if w.wake != nil {
		close(w.wake)
		w.wake = nil
	}
}

// setDeadline sets the connection's write deadline; role held.
func (w *writer) setDeadline(dl time.Time) error {
	if dl.Equal(w.deadline) {
		return nil
	}
	if err := w.c.nc.SetWriteDeadline(dl); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	w.deadline = dl
	return nil
}
