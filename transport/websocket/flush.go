package websocket

import (
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
// meanwhile. dl is the write deadline (zero for none). Called with mu held
// and the role held; returns with mu held. After an error the role is kept:
// the connection is failing and nothing more may be written.
func (w *writer) flushOnce(dl time.Time) error {
	b := w.pending
	w.pending, w.spare = w.spare[:0], nil
	if w.owed {
		if !w.closed {
			w.pending = appendFrame(w.pending, ws.OpPong, w.pong[:w.pongLen])
		}
		w.owed = false
	}
	id := w.batch
	w.batch++
	w.broadcast() // room in pending
	w.mu.Unlock()

	var err error
	var start, end time.Time
	if len(b) > 0 {
		start = time.Now()
		if err = w.setDeadline(dl); err == nil {
			_, err = w.c.nc.Write(b)
		}
		end = time.Now()
	}

	w.mu.Lock()
	w.spare = b[:0]
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
	return err
}

// sendLarge writes a frame larger than half the buffer: the pending batch
// first, then the frame, masked chunk by chunk into the spare half, with
// dl as the write deadline. The caller holds the role and mu; sendLarge
// releases both.
func (w *writer) sendLarge(ctx context.Context, op string, code ws.OpCode, p []byte, dl time.Time) error {
	b := w.pending
	w.pending, w.spare = w.spare[:0], nil
	id := w.batch
	w.batch++
	w.broadcast()
	w.mu.Unlock()

	err := w.setDeadline(dl)
	mask := ws.NewMask()
	if err == nil && cap(b)-len(b) < frameSize(len(p))-len(p) {
		_, err = w.c.nc.Write(b)
		b = b[:0]
	}
	b = appendHeader(b, code, len(p), mask)
	for pos := 0; err == nil && pos < len(p); {
		if len(b) == cap(b) {
			_, err = w.c.nc.Write(b)
			b = b[:0]
			continue
		}
		n := min(cap(b)-len(b), len(p)-pos)
		start := len(b)
		b = append(b, p[pos:pos+n]...)
		ws.Cipher(b[start:], mask, pos)
		pos += n
	}
	if err == nil && len(b) > 0 {
		_, err = w.c.nc.Write(b)
	}

	w.mu.Lock()
	w.spare = b[:0]
	if err != nil {
		w.broadcast()
		w.mu.Unlock()
		return w.writeFailed(ctx, op, err)
	}
	w.written = id
	w.broadcast()
	w.releaseRole()
	w.mu.Unlock()
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

// flushLoop writes batches until nothing is pending, or until a sender of
// a large frame waits for the role. It runs on a goroutine of its own,
// started with the role held (see releaseRole), and ends by itself.
func (w *writer) flushLoop() {
	defer w.c.wg.Done()
	w.mu.Lock()
	for w.hasWork() && w.roleWaiters == 0 {
		if err := w.flushOnce(time.Time{}); err != nil {
			w.mu.Unlock()
			// Not under mu: closing a TLS connection may write an alert.
			w.fail(err)
			return
		}
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
