package adapters

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// Default outbound buffer bounds.
const (
	DefaultMaxQueued      = 1024
	DefaultMaxQueuedBytes = 4 << 20
)

// Drop reports a message that will not be delivered, or may not have been.
type Drop struct {
	// ID is the identity Send returned for the message.
	ID uint64
	// Value is what was passed to Send.
	Value any
	// Size is the payload's length in bytes (0 when unknown).
	Size int
	// Reason is ErrBufferFull (dropped by the overflow policy),
	// ErrPossiblyLost (written, then the connection failed before the peer
	// confirmed it) or ErrClosed (still queued when the client closed).
	Reason error
}

// Outbox is the outbound buffer, an [Observer] of the [Connector]. While a
// session is open and nothing is queued, Send writes straight to the
// connection. Otherwise messages queue, bounded by count and bytes under an
// overflow policy (stream.Overflow), and go out in order, before any newer message, once the
// next session opens.
//
// Nothing is dropped silently: every message that is dropped by the
// overflow policy, left queued when the machine closes, or written to a
// connection that failed before the peer confirmed it, is reported to the
// drop hook with its identity.
//
// All methods are safe for concurrent use.
type Outbox struct {
	maxCount int
	maxBytes int
	overflow stream.Overflow
	record   RecordLimits
	onDrop   func(Drop)
	onLost   func(Lost)

	nextID atomic.Uint64
	remove func()
	wg     sync.WaitGroup

	mu       sync.Mutex
	queue    []queued
	head     int
	bytes    int
	cur      *Session
	direct   atomic.Pointer[Session] // cur while Send may write to it at once, else nil (see syncDirect)
	closing  *Session                // the session whose close handshake is under way
	flushing bool
	closed   bool
	// Messages that entered the queue, and those of them that left it for
	// good (written, or reported); Flush waits for done to reach the
	// queued count it saw.
	queuedN, doneN uint64
	// doneN when the machine closed with messages still queued (then
	// reported ErrClosed), or 0: a Flush waiting for more learns ErrClosed.
	doneAtClose    uint64
	droppedAtClose bool
	sending        atomic.Int64  // Sends under way
	waiters        atomic.Int32  // Wait calls waiting for sending to reach 0
	space          chan struct{} // closed when room frees or the outbox closes; nil while nobody waits (see spaceCh)
}

type queued struct {
	id      uint64
	typ     transport.MessageType
	payload []byte
	value   any
	onWrite func(epoch uint64) // SendTracked's, or nil
}

// Lost reports, once per connection end, the messages written on that
// connection that the peer never confirmed: each may or may not have
// arrived. Each of them is also reported to the drop hook on its own, with
// reason ErrPossiblyLost.
type Lost struct {
	// IDs are the messages' identities, in the order they were written.
	IDs []uint64
	// Bytes is the sum of their payload sizes.
	Bytes int
	// Cause is why the connection ended, or nil when it is not known.
	Cause error
}

// OutboxOption configures an Outbox.
type OutboxOption interface{ applyOutbox(*Outbox) }

type outboxOption func(*Outbox)

func (f outboxOption) applyOutbox(o *Outbox) { f(o) }

// WithBufferLimits bounds the queue to messages messages and bytes bytes of
// payload. Values below 1 keep the defaults (DefaultMaxQueued,
// DefaultMaxQueuedBytes).
func WithBufferLimits(messages, bytes int) OutboxOption {
	return outboxOption(func(o *Outbox) {
		if messages > 0 {
			o.maxCount = messages
		}
		if bytes > 0 {
			o.maxBytes = bytes
		}
	})
}

// WithOverflow sets the overflow policy: stream.Block (the default),
// stream.DropOldest, stream.DropNewest or stream.Fail. (stream.Disconnect
// is for subscribers; here it acts as Block.)
func WithOverflow(p stream.Overflow) OutboxOption {
	return outboxOption(func(o *Outbox) { o.overflow = p })
}

// WithDropHook sets the function every drop is reported to. It may be
// called from any goroutine (the sender's, the actor's, a flusher's) and
// must not block.
func WithDropHook(f func(Drop)) OutboxOption {
	return outboxOption(func(o *Outbox) { o.onDrop = f })
}

// WithLostHook sets the function that receives one Lost per connection
// end that left messages unconfirmed, once the writes under way on it at
// its end are recorded, so that they are in it too. Like the drop hook it
// may be called from any goroutine and must not block.
func WithLostHook(f func(Lost)) OutboxOption {
	return outboxOption(func(o *Outbox) { o.onLost = f })
}

// WithRecordLimits bounds each connection's record of unconfirmed writes
// (see RecordLimits). Values below 1 keep the defaults.
func WithRecordLimits(l RecordLimits) OutboxOption {
	return outboxOption(func(o *Outbox) { o.record = l })
}

// NewOutbox attaches an outbound buffer to m. Hand it to the Connector with
// WithObserver as well, so it learns about sessions.
func NewOutbox(m *fsm.Machine, opts ...OutboxOption) *Outbox {
	o := &Outbox{maxCount: DefaultMaxQueued, maxBytes: DefaultMaxQueuedBytes}
	for _, opt := range opts {
		opt.applyOutbox(o)
	}
	o.remove = m.AddHook(o.hook)
	return o
}

// Len returns how many messages, and how many payload bytes, are queued.
func (o *Outbox) Len() (messages, bytes int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue) - o.head, o.bytes
}

// Send writes payload as a message of type typ, now when a session is open
// and nothing waits before it, otherwise after what is queued. It returns
// the message's identity, which drop reports carry, and value is kept with
// it for those reports ([PayloadValue] stands for the payload itself
// without an allocation).
//
// The payload must not be modified after Send returns when the message was
// queued; Send copies it only when it queues it. It returns ErrClosed once
// the machine is closing or closed, a *QueueSizeError (ErrTooLargeToQueue)
// for a payload that must be queued and is larger than the whole buffer (a
// direct write has no size limit), ErrBufferFull under the Fail policy, the ctx error
// when ctx ends while blocked, and, when a direct write fails after it may
// have sent part of the message, an error matching ErrPossiblyLost and the
// transport's error (a write that fails before the message is accepted
// matches transport.ErrClosed: the message is queued for the next
// connection instead; one the Conn refuses before writing anything,
// matching transport.ErrUnsupported, is returned as it is, and a queued
// message refused so is reported as a Drop with that reason).
func (o *Outbox) Send(ctx context.Context, typ transport.MessageType, payload []byte, value any) (uint64, error) {
	return o.SendTracked(ctx, typ, payload, value, nil)
}

// SendTracked is Send that also says which connection took the message:
// onWrite, when not nil, is called once with the Epoch of the session the
// message was written to, right after the write (also after a write that
// failed once the message may have gone out, since it may have arrived),
// on the goroutine that wrote it: inside SendTracked for a message
// written at once, on the flusher for one that waited in the buffer. It
// is never called for a message that was not written (refused, dropped,
// still queued at the close). It must be quick and must not call the
// outbox. A layer that must know whether a message went out on a
// connection that then ended (package rpc, which must never report a
// request lost and then send it) uses it.
func (o *Outbox) SendTracked(ctx context.Context, typ transport.MessageType, payload []byte, value any, onWrite func(epoch uint64)) (uint64, error) {
	o.enter()
	defer o.leave()
	id := o.nextID.Add(1)
	for {
		// The fast path: an open session, nothing queued, no flusher.
		if s := o.direct.Load(); s != nil {
			if done, err := o.sendDirect(ctx, s, id, typ, payload, value, onWrite); done {
				return id, err
			}
			continue
		}
		o.mu.Lock()
		if o.closed {
			o.mu.Unlock()
			return id, ErrClosed
		}
		s := o.cur
		if s == nil || o.flushing || o.head < len(o.queue) {
			if len(payload) > o.maxBytes {
				o.mu.Unlock()
				return id, &QueueSizeError{Size: len(payload), Limit: o.maxBytes}
			}
			return id, o.enqueue(ctx, queued{id: id, typ: typ, payload: payload, value: value, onWrite: onWrite}) // unlocks
		}
		o.mu.Unlock()
		if done, err := o.sendDirect(ctx, s, id, typ, payload, value, onWrite); done {
			return id, err
		}
	}
}

// sendDirect writes a message to s at once and reports done, or reports
// not done when s ended before taking it (then Send queues it).
func (o *Outbox) sendDirect(ctx context.Context, s *Session, id uint64, typ transport.MessageType, payload []byte, value any, onWrite func(uint64)) (done bool, err error) {
	if !o.beginWrite(s) {
		o.leaveSession(s) // the connection ended: queue the message
		return false, nil
	}
	defer o.endWrite(s)
	evicted, err := s.awaitRoom(ctx)
	if evicted != nil {
		o.lost(ErrUnconfirmable, evicted)
	}
	if err != nil {
		if err != errSettled {
			return true, err
		}
		o.leaveSession(s) // the connection ended: queue the message
		return false, nil
	}
	err = transport.RedactErr(s.Conn.Write(ctx, typ, payload)) // a custom Conn's error may quote the URL
	if err == nil {
		if onWrite != nil {
			onWrite(s.Epoch)
		}
		o.wrote(ctx, s, id, value, len(payload))
		return true, nil
	}
	if !errors.Is(err, transport.ErrClosed) {
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			return true, err // not sent
		}
		if errors.Is(err, transport.ErrUnsupported) {
			return true, err // refused before anything was written
		}
		// The write itself failed: part of the message, or all of it,
		// may have gone out.
		if onWrite != nil {
			onWrite(s.Epoch)
		}
		return true, &possiblyLost{cause: err}
	}
	// The connection closed before taking the message: nothing was
	// written. Wait for the machine to notice, then queue it.
	o.leaveSession(s)
	return false, nil
}

// syncDirect publishes cur as the session Send may write to without the
// lock, when nothing stands in the way (closed, a flusher, a queue), and
// withdraws it otherwise. Every change to those calls it. o.mu is held.
func (o *Outbox) syncDirect() {
	if o.cur != nil && !o.closed && !o.flushing && o.head == len(o.queue) {
		o.direct.Store(o.cur)
	} else {
		o.direct.Store(nil)
	}
}

// leaveSession stops writing to s, which ended.
func (o *Outbox) leaveSession(s *Session) {
	o.mu.Lock()
	if o.cur == s {
		o.cur = nil
		o.syncDirect()
	}
	o.mu.Unlock()
}

// wrote records a message written on s and sends the confirmation probe
// that the record may now want. A session whose account was settled
// meanwhile reports the message itself.
func (o *Outbox) wrote(ctx context.Context, s *Session, id uint64, value any, size int) {
	probe, ok := s.Wrote(id, value, size)
	if !ok {
		o.lost(nil, []Sent{{ID: id, Value: value, Size: size}})
		return
	}
	if probe != nil {
		_ = s.sendProbe(ctx, probe)
	}
}

// enqueue queues q under the overflow policy. o.mu is held; enqueue
// releases it.
func (o *Outbox) enqueue(ctx context.Context, q queued) error {
	q.payload = append([]byte(nil), q.payload...)
	q.value = ownPayload(q.value, q.payload)
	for o.full(len(q.payload)) {
		switch o.overflow {
		case stream.Fail:
			o.mu.Unlock()
			return ErrBufferFull
		case stream.DropNewest:
			o.mu.Unlock()
			o.report(Drop{ID: q.id, Value: q.value, Size: len(q.payload), Reason: ErrBufferFull})
			return nil
		case stream.DropOldest:
			old := o.pop()
			o.doneN++
			o.mu.Unlock()
			o.report(Drop{ID: old.id, Value: old.value, Size: len(old.payload), Reason: ErrBufferFull})
			o.mu.Lock()
		default: // Block
			space := o.spaceCh()
			o.mu.Unlock()
			select {
			case <-space:
			case <-ctx.Done():
				return ctx.Err()
			}
			o.mu.Lock()
		}
		if o.closed {
			o.mu.Unlock()
			return ErrClosed
		}
	}
	o.queue = append(o.queue, q)
	o.queuedN++
	o.bytes += len(q.payload)
	o.startFlush()
	o.syncDirect()
	o.mu.Unlock()
	return nil
}

// full reports whether n more bytes would exceed a bound. o.mu is held.
func (o *Outbox) full(n int) bool {
	count := len(o.queue) - o.head
	return count > 0 && (count >= o.maxCount || o.bytes+n > o.maxBytes)
}

// pop removes the oldest queued message. o.mu is held and the queue is not
// empty.
func (o *Outbox) pop() queued {
	q := o.queue[o.head]
	o.queue[o.head] = queued{}
	o.head++
	o.bytes -= len(q.payload)
	if o.head == len(o.queue) {
		o.queue, o.head = o.queue[:0], 0
	}
	o.notify()
	return q
}

// spaceCh returns the channel notify closes next, making it if nobody has
// waited since the last notify: an outbox nobody waits on holds none.
// o.mu is held.
func (o *Outbox) spaceCh() chan struct{} {
	if o.space == nil {
		o.space = make(chan struct{})
	}
	return o.space
}

// notify wakes everyone waiting on o.space. o.mu is held.
func (o *Outbox) notify() {
	if o.space != nil {
		close(o.space)
		o.space = nil // the next waiter makes a new one
	}
}

// Flush waits until every message queued before the call has left the
// queue: written to a connection, or reported. Messages queued after the
// call do not hold it up, so it returns under sustained sending. It
// returns ctx's error when ctx ends first, and ErrClosed when the machine
// closes with those messages still queued.
func (o *Outbox) Flush(ctx context.Context) error {
	o.mu.Lock()
	target := o.queuedN
	o.mu.Unlock()
	for {
		o.mu.Lock()
		done := o.doneN >= target
		closed, space := o.closed, o.spaceCh()
		dropped := o.droppedAtClose && o.doneAtClose < target
		o.mu.Unlock()
		switch {
		case done && dropped:
			return ErrClosed // some of them were still queued at the close
		case done:
			return nil
		case closed:
			return ErrClosed
		}
		select {
		case <-space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pushFront puts q back at the head of the queue. o.mu is held.
func (o *Outbox) pushFront(q queued) {
	if o.head > 0 {
		o.head--
		o.queue[o.head] = q
	} else {
		o.queue = append([]queued{q}, o.queue...)
	}
	o.bytes += len(q.payload)
}

// startFlush starts the flusher when a session is open and messages wait.
// o.mu is held.
func (o *Outbox) startFlush() {
	if o.cur == nil || o.flushing || o.head == len(o.queue) {
		return
	}
	o.flushing = true
	o.wg.Go(o.flush)
}

// flush writes queued messages in order to the current session. Only one
// flusher runs at a time; while it runs, Send queues behind it.
func (o *Outbox) flush() {
	wrote := false
	for {
		o.mu.Lock()
		if wrote {
			o.doneN++ // notified by the pop below, or on the way out
			wrote = false
		}
		s := o.cur
		if s == nil || o.closed || o.head == len(o.queue) {
			o.flushing = false
			o.syncDirect()
			o.notify()
			o.mu.Unlock()
			return
		}
		q := o.pop()
		o.mu.Unlock()

		err := transport.ErrClosed // the connection ended: nothing written
		if o.beginWrite(s) {
			evicted, werr := s.awaitRoom(context.Background())
			if evicted != nil {
				o.lost(ErrUnconfirmable, evicted)
			}
			if werr == nil {
				err = transport.RedactErr(s.Conn.Write(context.Background(), q.typ, q.payload))
			}
			refused := errors.Is(err, transport.ErrUnsupported) // nothing written
			if q.onWrite != nil && !refused && !errors.Is(err, transport.ErrClosed) {
				q.onWrite(s.Epoch) // written, or perhaps in part
			}
			switch {
			case refused:
				// The Conn cannot carry it (and stays up): a drop with
				// the refusal as its reason, not a possible loss.
				o.report(Drop{ID: q.id, Value: q.value, Size: len(q.payload), Reason: err})
			case err == nil:
				// The session records it, and reports it if its end
				// leaves it unconfirmed.
				o.wrote(context.Background(), s, q.id, q.value, len(q.payload))
			case errors.Is(err, transport.ErrClosed):
				// Not written: below, it goes back to the queue.
			case s.ended.Load():
				// Perhaps written in part, on a session already ended:
				// its one report covers it.
				s.distrust()
				o.wrote(context.Background(), s, q.id, q.value, len(q.payload))
			default:
				// The write failed once the message may have gone out,
				// in part or whole, on a session still up (a polling
				// server refused it). Nothing will confirm it (the Conn
				// did not accept it, so its acknowledgements do not
				// count it), and writing it again could deliver it
				// twice: it is reported now, with the failure.
				o.lost(err, []Sent{{ID: q.id, Value: q.value, Size: len(q.payload)}})
			}
			o.endWrite(s)
		}

		if !errors.Is(err, transport.ErrClosed) {
			// Written or reported. After a failure the Conn either
			// stays up (a polling server refused one message) and
			// takes the next, or has ended and refuses it with
			// ErrClosed, which puts it back for the next connection.
			wrote = true
			continue
		}
		o.mu.Lock()
		switch {
		case o.closed:
			// The machine closed meanwhile and already reported the queue.
			o.doneN++
			o.mu.Unlock()
			o.report(Drop{ID: q.id, Value: q.value, Size: len(q.payload), Reason: ErrClosed})
			o.mu.Lock()
		default:
			o.pushFront(q) // not written: it goes out on the next session
		}
		if o.cur == s {
			o.cur = nil // the session is failing; the next one resumes the flush
		}
		o.flushing = false
		// A session that opened while this flusher wrote to the old one
		// found the role taken: start its flush now.
		o.startFlush()
		o.syncDirect()
		o.notify()
		o.mu.Unlock()
		return
	}
}

// Opened does nothing: the outbox writes to a session once it is ready,
// after the lifecycle's stages. Part of [Observer].
func (o *Outbox) Opened(*Session) {}

// Ready makes s the session to write to and flushes the queue. Part of
// [ReadyObserver].
func (o *Outbox) Ready(s *Session) {
	s.SetRecordLimits(o.record)
	o.mu.Lock()
	o.cur = s
	o.startFlush()
	o.syncDirect()
	o.mu.Unlock()
}

// Ended stops writing to s and reports what it left unconfirmed. A close
// handshake that completed confirms everything. Part of [Observer].
func (o *Outbox) Ended(s *Session, tr fsm.Transition) {
	o.mu.Lock()
	if o.cur == s {
		o.cur = nil
		o.syncDirect()
	}
	if tr.To == fsm.Closing || tr.To == fsm.Disconnecting {
		o.closing = s // the handshake's outcome decides, in the hook
		o.mu.Unlock()
		return
	}
	o.mu.Unlock()
	o.end(s, tr.Cause, false)
}

// beginWrite reports whether a write to s may start (the session has not
// ended); if so, the caller calls endWrite when the write is recorded.
func (o *Outbox) beginWrite(s *Session) bool {
	s.writers.Add(1)
	if s.ended.Load() {
		o.endWrite(s)
		return false
	}
	return true
}

// endWrite ends a write begun with beginWrite; the last one to end after
// the session ended settles its account.
func (o *Outbox) endWrite(s *Session) {
	if s.writers.Add(-1) == 0 && s.ended.Load() {
		o.settle(s)
	}
}

// end declares s ended, with the cause of its end, and clean when the peer
// answered our close (which confirms everything). Its account is settled
// once the writes under way on it are recorded, so that one report covers
// every message it leaves unconfirmed.
func (o *Outbox) end(s *Session, cause error, clean bool) {
	s.markEnded(cause, clean)
	if s.writers.Load() == 0 {
		o.settle(s)
	}
}

// settle reports, once, what s left unconfirmed.
func (o *Outbox) settle(s *Session) {
	if !s.settled.CompareAndSwap(false, true) {
		return
	}
	sent := s.Unconfirmed()
	s.mu.Lock()
	cause, clean := s.endCause, s.endClean
	s.mu.Unlock()
	if !clean {
		o.lost(cause, sent)
	}
}

// ControlOnly reports true: only pongs confirm writes. Part of
// [ControlObserver].
func (o *Outbox) ControlOnly() bool { return true }

// Inbound confirms the writes that a pong answering one of the outbox's
// confirmation probes covers. Part of [InboundObserver].
func (o *Outbox) Inbound(s *Session, m transport.Message) {
	if m.Type == transport.Pong {
		s.answered(m.Payload)
	}
}

// lost reports writes the peer never confirmed, because the connection
// ended (with cause, when known): each to the drop hook, then all of them
// at once to the lost hook.
func (o *Outbox) lost(cause error, sent []Sent) {
	if len(sent) == 0 {
		return
	}
	reason := ErrPossiblyLost
	if cause != nil {
		reason = &possiblyLost{cause: cause}
	}
	l := Lost{IDs: make([]uint64, len(sent)), Cause: cause}
	for i, w := range sent {
		l.IDs[i] = w.ID
		l.Bytes += w.Size
		o.report(Drop{ID: w.ID, Value: w.Value, Size: w.Size, Reason: reason})
	}
	if o.onLost != nil {
		o.onLost(l)
	}
}

// hook closes the outbox when the machine closes, reporting every message
// still queued. After a Disconnect (Idle) the queue stays for the next
// connection.
func (o *Outbox) hook(tr fsm.Transition) (fsm.Input, bool) {
	switch tr.To {
	case fsm.Idle:
		o.mu.Lock()
		closing := o.closing
		o.closing = nil
		o.mu.Unlock()
		if closing != nil {
			o.endHandshake(closing, tr)
		}
	case fsm.Closing:
		o.mu.Lock()
		o.closed = true
		o.syncDirect()
		o.mu.Unlock()
	case fsm.Closed:
		o.mu.Lock()
		o.closed = true
		o.syncDirect()
		closing := o.closing
		o.closing = nil
		var left []queued
		if o.head < len(o.queue) && !o.droppedAtClose {
			o.doneAtClose, o.droppedAtClose = o.doneN, true
		}
		for o.head < len(o.queue) {
			left = append(left, o.pop())
			o.doneN++
		}
		o.notify()
		o.mu.Unlock()
		if closing != nil {
			o.endHandshake(closing, tr)
		}
		for _, q := range left {
			o.report(Drop{ID: q.id, Value: q.value, Size: len(q.payload), Reason: ErrClosed})
		}
	}
	return fsm.Input{}, false
}

// endHandshake settles the session whose close handshake tr ended.
func (o *Outbox) endHandshake(s *Session, tr fsm.Transition) {
	// The peer answered our close: it read everything before it. A Conn
	// that says what its peer acknowledged (transport.Confirmer) is taken
	// at its word instead: HTTP polling reports a close it only made on
	// its side, with no answer, and the POST its Close aborted was never
	// acknowledged.
	if tr.Event == fsm.EventClosed && tr.Cause == nil && answeredOurClose(s.Conn.Err()) &&
		transport.ConfirmerOf(s.Conn) == nil {
		o.end(s, nil, true)
		return
	}
	o.end(s, tr.Cause, false)
}

// Wait blocks until the flusher has stopped and no Send is under way, or
// ctx ends.
func (o *Outbox) Wait(ctx context.Context) error {
	if err := waitGroup(ctx, &o.wg); err != nil {
		return err
	}
	// And for every Send under way: one that returns after the machine
	// closed may still have a drop to report.
	o.waiters.Add(1)
	defer o.waiters.Add(-1)
	for {
		o.mu.Lock()
		wake := o.spaceCh()
		o.mu.Unlock()
		if o.sending.Load() == 0 {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// enter and leave count the Sends under way.
func (o *Outbox) enter() { o.sending.Add(1) }

func (o *Outbox) leave() {
	// Only a Wait needs waking (it announced itself before it looked at
	// sending), so a Send costs no lock and no channel when nobody waits.
	if o.sending.Add(-1) == 0 && o.waiters.Load() > 0 {
		o.mu.Lock()
		o.notify()
		o.mu.Unlock()
	}
}

func (o *Outbox) report(d Drop) {
	if o.onDrop != nil {
		d.Value = userValue(d.Value, d.Size)
		o.onDrop(d)
	}
}
