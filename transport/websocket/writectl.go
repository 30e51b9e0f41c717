package websocket

import (
	"context"
	"time"

	"github.com/gobwas/ws"

	"github.com/tether-go/tether/transport"
)

// queuePong queues the pong that answers a ping whose payload is p. Called
// by the reader, which neither writes nor waits here: the pong goes into
// pending (or, when pending is full, into the pong slot, replacing an
// older one: only the latest ping needs an answer), and a flushing
// goroutine is started when nobody holds the role. No pong follows a close
// frame.
func (w *writer) queuePong(p []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	select {
	case <-w.c.done:
		return
	default:
	}
	w.ensureBuf()
	if frameSize(len(p)) <= cap(w.pending)-len(w.pending) {
		w.pending = w.appendFrame(w.pending, ws.OpPong, p)
		w.owed = false
	} else {
		w.pong = append(w.pong[:0], p...) // at most 125 bytes (a control frame's payload)
		w.owed = true
	}
	if !w.flushing {
		w.flushing = true
		w.startFlusher()
	}
}

// sendClose queues a close frame with code (0 for a frame without a code)
// and reason behind everything already queued, and returns once it has been
// written, with deadline as the write deadline when this goroutine writes
// it. It waits for room and for its batch until expire fires (errExpired)
// or the connection ends (errEnded). Afterwards nothing more is queued.
// Called by Close and by the reader.
func (w *writer) sendClose(code transport.StatusCode, reason string, deadline time.Time, expire <-chan time.Time) error {
	var buf [ws.MaxControlFramePayloadSize]byte
	payload := transport.AppendClose(buf[:0], code, reason) // empty for code 0
	size := frameSize(len(payload))

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	select {
	case <-w.c.done:
		return errEnded
	default:
	}
	w.closed = true
	own := false
	for w.ensureBuf(); size > cap(w.pending)-len(w.pending); w.ensureBuf() {
		if own || !w.flushing {
			own, w.flushing = true, true
			if _, err := w.flushOnce(context.Background(), deadline); err != nil {
				return err
			}
		} else if err := w.wait(nil, expire, false); err != nil {
			return err
		}
	}
	w.ensureBuf()
	w.pending = w.appendFrame(w.pending, ws.OpClose, payload)
	id := w.batch
	for w.written < id {
		if own || !w.flushing {
			own, w.flushing = true, true
			if _, err := w.flushOnce(context.Background(), deadline); err != nil {
				return err
			}
		} else if err := w.wait(nil, expire, false); err != nil {
			return err
		}
	}
	if own {
		w.releaseRole()
	} else {
		w.handOn()
	}
	return nil
}
