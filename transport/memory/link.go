package memory

import (
	"io"
	"sync"
	"unicode/utf8"

	"github.com/tether-go/tether/transport"
)

// op is a frame's kind. The values mirror the WebSocket opcodes.
type op uint8

const (
	opContinuation op = 0x0
	opText         op = 0x1
	opBinary       op = 0x2
	opClose        op = 0x8
	opPing         op = 0x9
	opPong         op = 0xA
)

// frame is one unit in a queue: a data frame (whole message or fragment), a
// control frame, or a close frame with its code and reason. Payloads are
// owned by the queue.
type frame struct {
	op      op
	fin     bool
	payload []byte
	code    transport.StatusCode
	reason  string
}

// queue is a FIFO of frames. Its bound is enforced by the link, which lets
// automatic replies through regardless.
type queue struct {
	items []frame
	head  int
}

func (q *queue) len() int { return len(q.items) - q.head }

func (q *queue) push(f frame) {
	if q.head > 0 && len(q.items) == cap(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, f)
}

func (q *queue) pop() (frame, bool) {
	if q.head == len(q.items) {
		return frame{}, false
	}
	f := q.items[q.head]
	q.items[q.head] = frame{}
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return f, true
}

// keepData keeps the data frames up to the first close frame and drops
// the rest (pings, pongs, the close frame). From the first message Read
// would refuse on (larger than limit, or text that is not valid UTF-8) it
// drops the messages too, and returns how many it dropped.
func (q *queue) keepData(limit int64) (refused uint64) {
	kept := q.items[:0] // written behind the reading: no frame is lost
	start, size, dropping := 0, int64(0), false
	for _, f := range q.items[q.head:] {
		if f.op == opClose {
			break
		}
		if f.op != opText && f.op != opBinary && f.op != opContinuation {
			continue
		}
		if dropping {
			if f.fin {
				refused++
			}
			continue
		}
		if f.op != opContinuation {
			start, size = len(kept), 0
		}
		kept = append(kept, f)
		size += int64(len(f.payload))
		if size > limit || f.fin && kept[start].op == opText && !validText(kept[start:]) {
			kept, dropping = kept[:start], true
			if f.fin {
				refused++
			}
		}
	}
	clear(q.items[len(kept):])
	q.items, q.head = kept, 0
	return refused
}

// validText reports whether the payloads of frames, joined, are valid
// UTF-8.
func validText(frames []frame) bool {
	if len(frames) == 1 {
		return utf8.Valid(frames[0].payload)
	}
	var all []byte
	for _, f := range frames {
		all = append(all, f.payload...)
	}
	return utf8.Valid(all)
}

func (q *queue) reset() {
	clear(q.items)
	q.items, q.head = q.items[:0], 0
}

// link is the state shared by the two ends of one connection. Every field
// below mu is guarded by it. Waiters block on the channel from changedCh,
// which broadcast closes on every change; nothing in a link runs on a
// goroutine of its own.
type link struct {
	opts        *options
	target      transport.Target
	subprotocol string

	clientDone chan struct{}
	serverDone chan struct{}

	mu      sync.Mutex
	changed chan struct{} // nil while nobody waits

	toClient queue
	toServer queue

	clientClose *frame                // close frame the client sent
	serverClose *frame                // close frame the server sent
	serverFirst bool                  // the server's close frame went out first
	closing     *transport.CloseError // set by the client's Close
	clientErr   error                 // how the client ended; nil while up
	serverErr   error                 // how the server ended; nil while up

	stalled      bool
	holdClose    bool     // the script answers the client's close (see ServerConn.HoldClose)
	pendingPings [][]byte // client pings a stalled server has not answered

	keep      bool   // the client's Close ended it: Read returns the data queued before the end
	discarded uint64 // data messages Read would have refused after the end (see conn.Discarded)
}

func newLink(o *options, target transport.Target, subprotocol string) *link {
	return &link{
		opts:        o,
		target:      target,
		subprotocol: subprotocol,
		clientDone:  make(chan struct{}),
		serverDone:  make(chan struct{}),
	}
}

// changedCh returns a channel closed at the next broadcast. l.mu is held.
func (l *link) changedCh() <-chan struct{} {
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.changed
}

// broadcast wakes every waiter. l.mu is held.
func (l *link) broadcast() {
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// fits reports whether n frames may join q now: the bound holds, or q is
// empty (so a message split into more fragments than the bound still goes
// through). l.mu is held.
func (l *link) fits(q *queue, n int) bool {
	return q.len() == 0 || q.len()+n <= l.opts.queueLimit
}

// sendClientClose queues the client's close frame. l.mu is held.
func (l *link) sendClientClose(code transport.StatusCode, reason string) {
	f := frame{op: opClose, code: code, reason: reason}
	l.clientClose = &f
	l.serverFirst = l.serverClose != nil
	l.toServer.push(f)
	l.broadcast()
}

// sendServerClose queues the server's close frame. l.mu is held.
func (l *link) sendServerClose(code transport.StatusCode, reason string) {
	f := frame{op: opClose, code: code, reason: reason}
	l.serverClose = &f
	l.serverFirst = l.clientClose == nil
	l.toClient.push(f)
	l.broadcast()
}

// ackClientClose answers a pending client close when the server does so by
// itself: automatic acknowledgement on and not stalled. l.mu is held.
func (l *link) ackClientClose() {
	if l.closing == nil || l.serverClose != nil || l.clientErr != nil {
		return
	}
	if l.opts.manualCloseAck || l.holdClose || l.stalled {
		return
	}
	l.sendServerClose(l.clientClose.code, "")
}

// serverView is how the server side ended, judged from the close frames
// exchanged so far. l.mu is held.
func (l *link) serverView() error {
	if l.serverClose != nil && (l.serverFirst || l.clientClose == nil) {
		return &transport.CloseError{Code: l.serverClose.code, Reason: l.serverClose.reason}
	}
	if l.clientClose != nil {
		return &transport.CloseError{Code: l.clientClose.code, Reason: l.clientClose.reason, Remote: true}
	}
	return dropError()
}

// dropError is how a connection that vanished without a close frame ends.
func dropError() error {
	return &transport.CloseError{Code: transport.StatusAbnormalClosure, Remote: true, Err: io.ErrUnexpectedEOF}
}

// end ends the client side with clientErr and the server side with
// serverErr, each unless it has already ended. What was queued toward the
// client is discarded, except after the client's Close (see endAnswered).
// l.mu is held.
func (l *link) end(clientErr, serverErr error) {
	if l.clientErr == nil {
		l.clientErr = clientErr
		close(l.clientDone)
		if l.keep {
			l.discarded += l.toClient.keepData(l.opts.maxMessageSize)
		} else {
			l.toClient.reset()
		}
		l.pendingPings = nil
	}
	if l.serverErr == nil {
		l.serverErr = serverErr
		close(l.serverDone)
	}
	l.broadcast()
}

// endClient ends the client with err, and the server as the close frames
// exchanged say. l.mu is held.
func (l *link) endClient(err error) { l.end(err, l.serverView()) }

// endAnswered is endClient at the end of the client's close handshake
// (answered, or out of time): the data messages the server sent before
// its answer and the client has not read stay queued, and Read returns
// them before the end. l.mu is held.
func (l *link) endAnswered(err error) {
	l.keep = true
	l.endClient(err)
}

// abandon ends both sides of a dial the client gave up.
func (l *link) abandon() {
	l.mu.Lock()
	l.end(ErrAbandoned, ErrAbandoned)
	l.mu.Unlock()
}

// waitLocked releases l.mu until the next broadcast or until done yields,
// then takes l.mu again. It reports false when done yielded first. A nil done
// never yields.
func waitLocked[T any](l *link, done <-chan T) bool {
	ch := l.changedCh()
	l.mu.Unlock()
	defer l.mu.Lock()
	select {
	case <-ch:
		return true
	case <-done:
		return false
	}
}

// dataOp returns the op of a data message type, or false for other types.
func dataOp(typ transport.MessageType) (op, bool) {
	switch typ {
	case transport.Text:
		return opText, true
	case transport.Binary:
		return opBinary, true
	}
	return 0, false
}
