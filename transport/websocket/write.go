package websocket

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/tether-go/tether/transport"
)

// writer owns the output of one connection. Every frame (data, ping, pong,
// close) is written by whoever holds lock, masked into one bufio.Writer.
//
// Flushes are coalesced: pending counts the goroutines that want the lock
// (the holder included). A holder that finishes while another writer is
// pending leaves its bytes in the buffer for that writer to flush, so a
// burst of concurrent writes leaves in one write system call. A pending
// writer that gives up (its context ended) while bytes wait unflushed hands
// the flush to a short-lived goroutine (abandon), so buffered bytes never
// stall.
//
// Pong replies never make the reader wait: the reader stores the payload
// in pong and sets owedPong; whoever holds or next takes the lock sends it.
type writer struct {
	c       *conn
	lock    chan struct{} // capacity 1: a send acquires, a receive releases
	pending atomic.Int32
	dirty   atomic.Bool // bw holds bytes not yet flushed (written under lock)

	// Guarded by lock.
	bw            *bufio.Writer
	hdr           [ws.MaxHeaderSize]byte
	ctl           [ws.MaxControlFramePayloadSize]byte
	deadline      time.Time // write deadline currently set on the connection
	flushDeadline time.Time // deadline a hand-off flush uses
	deferred      bool      // a holder left its bytes for the next writer
	closed        bool      // a close frame went out: nothing more is written

	owedPong atomic.Bool
	pongMu   sync.Mutex
	pong     [ws.MaxControlFramePayloadSize]byte
	pongLen  int
}

// Errors of acquire; callers turn them into their own.
var (
	errExpired = errors.New("tether/websocket: timed out waiting to write")
	errEnded   = errors.New("tether/websocket: connection ended")
)

func (w *writer) init(c *conn, size int) {
	w.c = c
	w.lock = make(chan struct{}, 1)
	w.bw = bufio.NewWriterSize(c.nc, size)
}

// Write sends one Text or Binary message as a single masked frame. See
// [transport.Conn.Write]. A ctx deadline becomes the write deadline; if it
// passes while the frame is half written, the connection fails (a partial
// frame cannot be taken back).
//
// Safe for concurrent use.
func (c *conn) Write(ctx context.Context, typ transport.MessageType, payload []byte) error {
	if !typ.IsData() {
		return fmt.Errorf("tether/websocket: write %s message: %w", typ, transport.ErrUnsupported)
	}
	return c.w.send(ctx, "write", ws.OpCode(typ), payload)
}

// Ping sends a ping frame carrying payload (at most 125 bytes; a longer one
// returns an error matching [transport.ErrMessageTooLarge]). The pong comes
// back through Read.
//
// Safe for concurrent use.
func (c *conn) Ping(ctx context.Context, payload []byte) error {
	if len(payload) > ws.MaxControlFramePayloadSize {
		return fmt.Errorf("tether/websocket: ping payload of %d bytes: %w", len(payload), transport.ErrMessageTooLarge)
	}
	return c.w.send(ctx, "ping", ws.OpPing, payload)
}

// send writes one frame for a caller of Write or Ping.
func (w *writer) send(ctx context.Context, op string, code ws.OpCode, p []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tether/websocket: %s: %w", op, err)
	}
	w.pending.Add(1)
	if err := w.acquire(ctx.Done(), nil); err != nil {
		w.abandon()
		if errors.Is(err, errEnded) {
			return w.c.closedError(op)
		}
		return fmt.Errorf("tether/websocket: %s: %w", op, ctx.Err())
	}
	if err := w.usable(op); err != nil {
		w.pending.Add(-1)
		w.release()
		return err
	}
	if err := ctx.Err(); err != nil {
		// Its turn came too late: write nothing, and hand on any flush owed.
		w.pending.Add(-1)
		w.releaseOwingFlush()
		return fmt.Errorf("tether/websocket: %s: %w", op, err)
	}
	dl, _ := ctx.Deadline()
	err := w.setDeadline(dl)
	if err == nil {
		err = w.frame(code, p)
	}
	if err == nil {
		err = w.writeOwedPong()
	}
	if w.pending.Add(-1) == 0 || err != nil {
		if err == nil {
			err = w.flush()
		}
	} else {
		w.deferFlush(dl)
	}
	if err != nil {
		// End the connection before anyone else writes after a frame that
		// may have gone out in part.
		w.fail(err)
	}
	w.release()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("tether/websocket: %s: %w: %w", op, ctxErr, err)
		}
		return fmt.Errorf("tether/websocket: %s: %w", op, err)
	}
	return nil
}

// acquire takes the lock, or gives up when ctxDone or expire fires or the
// connection ends. Either channel may be nil.
func (w *writer) acquire(ctxDone <-chan struct{}, expire <-chan time.Time) error {
	select {
	case w.lock <- struct{}{}:
		return nil
	default:
	}
	select {
	case w.lock <- struct{}{}:
		return nil
	case <-ctxDone:
		return context.Canceled
	case <-expire:
		return errExpired
	case <-w.c.done:
		return errEnded
	}
}

// release gives the lock up, then sends a pong that became owed while the
// lock was held.
func (w *writer) release() {
	<-w.lock
	w.serviceOwed()
}

// releaseOwingFlush releases the lock for a pending writer that wrote
// nothing; if it was the last one pending and bytes wait, it hands the
// flush on.
func (w *writer) releaseOwingFlush() {
	owe := w.pending.Load() == 0 && w.dirty.Load()
	w.release()
	if owe {
		w.c.spawn(w.handOffFlush)
	}
}

// abandon is called by a pending writer that gives up before getting the
// lock. When it was the last one pending, the bytes a previous holder left
// for it would never be flushed: a short-lived goroutine flushes them, so
// the caller can return now, as its context asks.
func (w *writer) abandon() {
	if w.pending.Add(-1) == 0 && w.dirty.Load() {
		w.c.spawn(w.handOffFlush)
	}
}

// handOffFlush flushes bytes left in the buffer, with the deadline of the
// writes they belong to. It runs on its own goroutine (see abandon).
func (w *writer) handOffFlush() {
	w.pending.Add(1)
	if w.acquire(nil, nil) != nil {
		w.pending.Add(-1)
		return
	}
	var err error
	if w.pending.Add(-1) == 0 && w.dirty.Load() {
		if err = w.setDeadline(w.flushDeadline); err == nil {
			err = w.flush()
		}
	}
	if err != nil {
		w.fail(err)
	}
	w.release()
}

// deferFlush records, under lock, that the holder leaves its bytes for the
// next writer, and the deadline they were due by. With several such
// writes the latest deadline wins; no deadline beats any deadline.
func (w *writer) deferFlush(dl time.Time) {
	switch {
	case !w.deferred:
		w.deferred = true
	case w.flushDeadline.IsZero():
		return
	case dl.IsZero() || dl.After(w.flushDeadline):
	default:
		return
	}
	w.flushDeadline = dl
}

// usable reports, under lock, whether data and pings may still be written.
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

// setDeadline sets the connection's write deadline, under lock.
func (w *writer) setDeadline(dl time.Time) error {
	if dl.Equal(w.deadline) {
		return nil
	}
	w.deadline = dl
	return w.c.nc.SetWriteDeadline(dl)
}

// frame writes one masked frame into the buffer, under lock. The payload is
// copied into the buffer and masked there: p is never modified.
func (w *writer) frame(op ws.OpCode, p []byte) error {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p)), Masked: true, Mask: ws.NewMask()}
	if err := ws.WriteHeaderBuffer(w.bw, h, w.hdr[:]); err != nil {
		return err
	}
	w.dirty.Store(true)
	for pos := 0; pos < len(p); {
		buf := w.bw.AvailableBuffer()
		if cap(buf) == 0 {
			if err := w.bw.Flush(); err != nil {
				return err
			}
			continue
		}
		n := min(cap(buf), len(p)-pos)
		buf = append(buf, p[pos:pos+n]...)
		ws.Cipher(buf, h.Mask, pos)
		if _, err := w.bw.Write(buf); err != nil {
			return err
		}
		pos += n
	}
	return nil
}

// flush writes the buffer to the connection, under lock.
func (w *writer) flush() error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	w.dirty.Store(false)
	w.deferred = false
	w.flushDeadline = time.Time{}
	return nil
}

// queuePong stores the payload of a ping for the pong reply and sends it
// now if the lock is free; otherwise the holder sends it. Called by the
// reader, which never waits here.
func (w *writer) queuePong(p []byte) {
	w.pongMu.Lock()
	w.pongLen = copy(w.pong[:], p)
	w.pongMu.Unlock()
	w.owedPong.Store(true)
	w.serviceOwed()
}

// serviceOwed sends an owed pong if the lock is free. The loop covers a
// pong queued while this goroutine held the lock.
func (w *writer) serviceOwed() {
	for w.owedPong.Load() {
		select {
		case w.lock <- struct{}{}:
		default:
			return // the holder sends it before or after it releases
		}
		err := w.setDeadline(time.Time{})
		if err == nil {
			err = w.writeOwedPong()
		}
		if err == nil && w.pending.Load() == 0 && w.dirty.Load() {
			err = w.flush()
		}
		if err != nil {
			w.fail(err)
		}
		<-w.lock
		if err != nil {
			return
		}
	}
}

// writeOwedPong writes the owed pong into the buffer, under lock. No pong
// follows a close frame.
func (w *writer) writeOwedPong() error {
	if !w.owedPong.Swap(false) {
		return nil
	}
	w.pongMu.Lock()
	n := copy(w.ctl[:], w.pong[:w.pongLen])
	w.pongMu.Unlock()
	if w.closed {
		return nil
	}
	select {
	case <-w.c.done:
		return nil
	default:
	}
	return w.frame(ws.OpPong, w.ctl[:n])
}

// sendClose writes a close frame with code (0 for a frame without a code)
// and reason, and flushes it together with everything buffered. It waits
// for the lock until expire fires. Afterwards nothing more is written.
func (w *writer) sendClose(code transport.StatusCode, reason string, deadline time.Time, expire <-chan time.Time) error {
	w.pending.Add(1)
	if err := w.acquire(nil, expire); err != nil {
		w.abandon()
		return err
	}
	if w.closed {
		w.pending.Add(-1)
		w.release()
		return nil
	}
	select {
	case <-w.c.done:
		w.pending.Add(-1)
		w.release()
		return errEnded
	default:
	}
	w.closed = true
	n := 0
	if code != 0 {
		binary.BigEndian.PutUint16(w.ctl[:2], uint16(code))
		n = 2 + copy(w.ctl[2:], reason)
	}
	err := w.setDeadline(deadline)
	if err == nil {
		err = w.frame(ws.OpClose, w.ctl[:n])
	}
	w.pending.Add(-1)
	if err == nil {
		err = w.flush()
	}
	w.release()
	return err
}

// fail ends the connection after a write error: a frame may have gone out
// in part, so the stream cannot be trusted any more.
func (w *writer) fail(err error) {
	w.c.end(&transport.CloseError{Code: transport.StatusAbnormalClosure, Err: err})
}
