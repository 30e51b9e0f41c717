package tether

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// onMessageOption carries a typed callback; New checks its type against the
// client's T.
type onMessageOption struct{ f any }

func (onMessageOption) apply(*config) {}

// OnMessage calls f with every decoded message, on the reader goroutine,
// before the message reaches the streams. f owns the value: it may keep it
// and change it. While f runs nothing else is read, so the peer is slowed
// down rather than anything lost; the heartbeat does not count that time
// against the peer. f never runs on two goroutines at once, even across
// reconnects. Given more than once, each f runs in the order given, each
// with a value of its own; one that calls Close keeps the message from
// those after it. Its T must be the client's message type, otherwise New
// fails with an *OptionError.
func OnMessage[T any](f func(T)) Option { return onMessageOption{f: f} }

// OnRaw calls f with every data message as it is read, on the reader
// goroutine, before anything else sees it: the fastest way to consume a
// connection, with no copy and no allocation. The payload is borrowed: it is
// valid only until f returns, so copy what must outlive the call. f never
// runs on two goroutines at once. Given more than once, each f runs in the
// order given; one that calls Close keeps the message from those after it.
func OnRaw(f func(msg transport.Message)) Option {
	return optionFunc(func(c *config) { c.onRaw = append(c.onRaw, f) })
}

// WithIntercept calls f with every data message as it is read, on the
// reader goroutine, before OnRaw, a stage, the codec and every other
// consumer; when f returns true the message is taken and goes nowhere else.
// It is how a protocol layer claims its own messages (the replies to its
// requests, say) and lets the rest through. The payload is borrowed: copy
// what must outlive the call. f must be quick and must not block: while it
// runs nothing else is read. Several are called in the order given, until
// one takes the message.
func WithIntercept(f func(msg transport.Message) bool) Option {
	return optionFunc(func(c *config) {
		if f == nil {
			c.fail("WithIntercept", invalid("nil function"))
			return
		}
		c.intercept = append(c.intercept, f)
	})
}

// inbound handles one data message on the reader goroutine.
func (c *Client[T]) inbound(s *adapters.Session, msg transport.Message) {
	c.stats.read(len(msg.Payload))
	for _, f := range c.cfg.intercept {
		if f(msg) {
			return
		}
	}
	if c.stage.Load() != nil && c.toStage(s, msg) {
		return
	}
	if g := c.gate.Load(); g != nil {
		select {
		case <-*g: // OnOpen first
			c.gate.CompareAndSwap(g, nil)
		case <-c.stopping:
		}
	}
	if c.stopped() {
		// Close was called: no message reaches user code any more. The
		// flush after it reports the drop, when anything was to have it.
		if c.wanted.Load() {
			c.in.dropped++
		}
		return
	}
	// Whether a subscriber, or the hold for the first, was to have msg:
	// known now, since a Close (from user code below, or any goroutine)
	// ends the subscriptions; such a message is then counted, not lost.
	wanted := c.messages.Len() > 0 || c.holding()
	for i, f := range c.cfg.onRaw {
		f(msg)
		// A Close from this callback keeps the message from the next one
		// too (an outside review saw a second OnRaw get it after Close
		// returned).
		if c.closedBy(i < len(c.cfg.onRaw)-1 || len(c.onMessage) > 0 || c.cfg.router != nil || wanted) {
			return
		}
	}
	var (
		v      T
		decErr error // msg is no T: it goes to the router only
	)
	if c.in.kind == viaCodec {
		if v, decErr = stream.Decode[T](c.cfg.codec, msg.Payload); decErr != nil && c.cfg.router == nil {
			c.report(messageError(decErr))
			return
		}
	}
	if decErr == nil {
		c.keepLast(msg)
	}
	if r := c.cfg.router; r != nil {
		if c.closedBy(true) { // Close came while the message was decoded
			return
		}
		var rerr error
		if env, ok := any(v).(stream.Envelope); ok && c.in.kind == viaCodec && decErr == nil {
			rerr = r.Dispatch(env)
		} else {
			rerr = r.DispatchPayload(msg.Payload)
		}
		cut := routeCut(&rerr)
		if rerr != nil {
			c.report(messageError(rerr))
		}
		if cut {
			// Close cut the dispatch short: registrations were to have
			// msg, and did not. It goes no further, counted once.
			c.closedBy(true)
			return
		}
		if rerr != nil && decErr != nil && !isEnvelope[T]() {
			// Neither took it. (For a Client[stream.Envelope] the router's
			// error is the same decoding failure, reported once.)
			c.report(messageError(decErr))
		}
		if decErr != nil || c.closedBy(len(c.onMessage) > 0 || wanted) {
			return
		}
	}
	for i, f := range c.onMessage {
		w := v
		switch {
		case c.in.kind != viaCodec:
			w = owned[T](msg) // each its own copy
		case i > 0:
			w, _ = stream.Decode[T](c.cfg.codec, msg.Payload) // its own value, as the subscribers get
		}
		// Looked at once the value is made, right before the call: a copy
		// of a large message took milliseconds, and a Close from another
		// goroutine meanwhile saw OnMessage start after it (an outside
		// review, 2-10 of 100 runs with 4 MiB messages).
		if c.closedBy(true) { // Close came while the message was decoded, routed or copied, or from the callback before
			return
		}
		f(w)
		if i == len(c.onMessage)-1 && c.closedBy(wanted) {
			return
		}
	}
	if wanted || c.messages.Len() > 0 || c.holding() {
		if len(c.onMessage) > 0 && c.in.kind == viaCodec {
			// The value went to OnMessage: subscribers get their own.
			v, _ = stream.Decode[T](c.cfg.codec, msg.Payload)
		}
		c.in.add(msg, v)
		switch {
		case c.holding() && c.fillsHold(c.in.len(), c.in.bytes()):
			// The hold is bounded in messages and bytes, not by what one
			// read brought: hand the burst on now (hold waits when full).
			c.flush(s)
		case c.in.len() >= maxBurst:
			// A burst is bounded, and with it the arena it is copied
			// into (stream's PublishEach hands it to Block subscribers
			// in steps of the smallest buffer).
			c.flush(s)
		}
	}
}

// maxBurst is the most messages the reader hands on at once: a subscriber's
// default buffer (a 4 KiB read of 11-byte messages brings about 300).
const maxBurst = stream.DefaultBuffer

// holdBytes bounds the payload bytes held for a first consumer, whatever
// WithHold says: a server's compressed messages inflate a thousandfold, and
// 256 of them at the 16 MiB message limit held 4 GiB for about 4 MiB of
// traffic (an outside review). The bound is checked after each burst, so
// at most a burst more is held.
const holdBytes = 16 << 20

// fillsHold reports whether a burst of n messages and b bytes fills the
// hold: it is handed on then, to be held and have the reader wait.
func (c *Client[T]) fillsHold(n, b int) bool {
	c.feedMu.Lock()
	defer c.feedMu.Unlock()
	return n >= c.cfg.hold-len(c.held) || b >= holdBytes-c.heldBytes
}

// holdFull reports whether the hold has as many messages as WithHold
// allows, or holdBytes of payload. feedMu is held.
func (c *Client[T]) holdFull() bool {
	return len(c.held) >= c.cfg.hold || c.heldBytes >= holdBytes
}

// routeCut takes out of *rerr the part that says Close cut the dispatch
// short (stream.ErrCut: a handler, or another goroutine, closed the
// client), which is no fault of the message, and reports whether there
// was one.
func routeCut(rerr *error) bool {
	if *rerr == nil || !errors.Is(*rerr, stream.ErrCut) {
		return false
	}
	var rest []error
	for _, e := range unjoin(*rerr) {
		if !errors.Is(e, stream.ErrCut) {
			rest = append(rest, e)
		}
	}
	*rerr = errors.Join(rest...)
	return true
}

// unjoin returns the errors that errors.Join joined into err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// closedBy reports whether Close was called, by the user code the message
// was just handed to or by any goroutine: then the message goes no
// further, since nothing reaches user code once Close has been called. It
// counts as dropped (reported by the flush after it) when more consumers
// were to have it: later callbacks, subscribers, or the hold for the first
// subscriber (more). The reader asks it again right before each callback:
// a Close from another goroutine does not wait for the reader, and one
// that came while the message was decoded must not see a callback start
// after it returned (an outside review saw one OnMessage start after Close
// returned, over polling, in 10 of 200 runs, when the only check came
// before the decoding). It is one atomic load.
func (c *Client[T]) closedBy(more bool) bool {
	if !c.stopped() {
		return false
	}
	if more {
		c.in.dropped++
	}
	return true
}

// keepLast remembers msg as the latest good message, for Latest. For a T
// that goes through the codec it is copied at once: the next message of
// the burst may not decode, and by then its Read may have reused this
// payload's memory (a transport lends a payload only until the next Read),
// and the copy costs little beside the decoding. Otherwise every message
// is good, and msg is kept borrowed until the next read, flush copying the
// last of the burst. When the transport hands every message in the same
// buffer, only the length changes, and the reader does not pay a write
// barrier per message while the collector runs.
func (c *Client[T]) keepLast(msg transport.Message) {
	if c.in.kind == viaCodec {
		c.setLatest(msg.Type, msg.Payload)
		return
	}
	c.lastType = msg.Type
	if n := len(msg.Payload); n > 0 && len(c.lastGood) > 0 && cap(c.lastGood) >= n && &c.lastGood[0] == &msg.Payload[0] {
		c.lastGood = c.lastGood[:n]
		return
	}
	c.lastGood = msg.Payload
}

// latestReuse is the largest copy of the latest message setLatest reuses
// for a message less than half its size.
const latestReuse = 64 << 10

// setLatest copies payload as the latest message.
func (c *Client[T]) setLatest(typ transport.MessageType, payload []byte) {
	c.latestMu.Lock()
	if cap(c.latestRaw) > latestReuse && cap(c.latestRaw) > 2*len(payload) {
		// A large message's copy is not kept for the small ones after it:
		// an idle client pinned the largest message it ever received (an
		// outside review: 15 MiB a client).
		c.latestRaw = nil
	}
	c.latestRaw = append(c.latestRaw[:0], payload...)
	c.latestType, c.hasLatest = typ, true
	c.latestMu.Unlock()
}

// flush hands the burst gathered by inbound to the subscribers, on the
// reader goroutine, once the connection has nothing more buffered, and
// reports what reached no consumer. The connector calls it once more when
// the reader's connection has ended.
func (c *Client[T]) flush(s *adapters.Session) {
	c.stats.publishIn()
	if c.lastGood != nil {
		c.setLatest(c.lastType, c.lastGood)
		c.lastGood = nil
	}
	if c.in.len() > 0 {
		c.publish(s)
	}
	c.inboundDrops(s)
}

// publish hands the burst read on s to the subscribers, or holds it for
// the first.
func (c *Client[T]) publish(s *adapters.Session) {
	defer c.in.reset()
	if c.stopped() {
		// Gathered before Close was called: it reaches no subscriber now.
		c.in.dropped += uint64(c.in.len())
		return
	}
	if c.holding() && c.hold(s) {
		return
	}
	var first []T
	if c.messages.PublishEach(func(i int) []T {
		if i == 0 {
			first = c.in.first()
			return first
		}
		return c.in.another(first)
	}) > 0 {
		// A subscriber that Close ended meanwhile counts what it could not
		// take as its own drops (stream's Hub.Close).
		c.in.release()
	} else if c.stopped() {
		// Close ended the subscriptions since the burst was gathered for
		// them.
		c.in.dropped += uint64(c.in.len())
	}
}

// inboundDrops reports, on the reader goroutine, the data messages that
// reached no consumer, at the reader's last flush (once s's connection has
// ended, or its reader was given up): those read after Close was called
// (one report with their count, not one a burst or a message: a server
// that floods until it answers the close frame, or a transport that hands
// out what it had fetched one message at a time after its Close, would
// flood the error callbacks), and those its transport threw away unread
// (see transport.DiscardCounter). Both counts are final then, so nothing
// is left unreported.
func (c *Client[T]) inboundDrops(s *adapters.Session) {
	if !s.LastFlush() {
		return // still reading: the counts may grow
	}
	if n := c.in.dropped; n > 0 {
		c.in.dropped = 0
		c.reportInboundDrop(&InboundDropError{Count: n, Reason: ErrClosed})
	}
	if c.in.epoch != s.Epoch {
		c.in.epoch, c.in.discarded = s.Epoch, 0
	}
	if d := transport.DiscardsOf(s.Conn); d != nil {
		if n := d.Discarded(); n > c.in.discarded {
			if c.wanted.Load() {
				c.reportInboundDrop(&InboundDropError{Count: n - c.in.discarded, Reason: ErrDiscarded})
			}
			c.in.discarded = n
		}
	}
}

// owned converts a borrowed payload into a T the caller owns: []byte and
// string take a copy, transport.Message a copy of its payload. T does not
// go through the codec.
func owned[T any](msg transport.Message) T {
	var v T
	switch p := any(&v).(type) {
	case *[]byte:
		*p = bytes.Clone(msg.Payload)
	case *string:
		*p = string(msg.Payload)
	case *transport.Message:
		*p = transport.Message{Type: msg.Type, Payload: bytes.Clone(msg.Payload)}
	}
	return v
}

// Latest returns the most recent message, decoded now into a value the
// caller owns, and false before the first one. A message that did not
// decode does not count.
func (c *Client[T]) Latest() (T, bool) {
	c.latestMu.Lock()
	defer c.latestMu.Unlock()
	if !c.hasLatest {
		var zero T
		return zero, false
	}
	if c.in.kind == viaCodec {
		v, err := stream.Decode[T](c.cfg.codec, c.latestRaw)
		return v, err == nil
	}
	return owned[T](transport.Message{Type: c.latestType, Payload: c.latestRaw}), true
}

// dropped reports a dropped outbound message; any goroutine. A message
// possibly lost goes to OnDrop here, and to the error stream and the
// logger with the others its connection left unconfirmed (see lost).
func (c *Client[T]) dropped(d Drop) {
	c.stats.dropped(d)
	if f := c.cfg.onDrop; f != nil {
		// On the callbacks' goroutine: the outbox reports from Send and
		// from the machine's hooks, where a Close made by f would wait
		// for itself. Never dropped: OnDrop is how a program learns which
		// messages to send again.
		c.cb.postAlways(func() { f(d) })
	}
	if errors.Is(d.Reason, ErrPossiblyLost) {
		return
	}
	if l := c.cfg.logger; l != nil {
		l.Warn("tether message dropped", "id", d.ID, "size", d.Size, "reason", d.Reason.Error())
	}
	c.report(&DropError{Drop: d})
}

// lost reports, once per connection end, the messages it left unconfirmed.
// Its OnError is never dropped for a full callback queue: it is the one
// report of them (a close can queue a send buffer's worth of drop reports
// just before it, which filled the queue).
func (c *Client[T]) lost(l adapters.Lost) {
	e := &PossiblyLostError{IDs: l.IDs, Bytes: l.Bytes, Cause: l.Cause}
	if lg := c.cfg.logger; lg != nil {
		lg.Warn("tether messages possibly lost", "count", len(e.IDs), "bytes", e.Bytes,
			"first_id", e.IDs[0], "last_id", e.IDs[len(e.IDs)-1], "err", error(e))
	}
	c.publishError(e, true)
}

// report publishes err on the error stream and queues the OnError
// callback.
func (c *Client[T]) report(err error) { c.publishError(err, false) }

// publishError is report; with always, OnError is queued even when the
// callback queue is full.
func (c *Client[T]) publishError(err error, always bool) {
	c.errs.Publish(err)
	if f := c.cfg.onError; f != nil {
		c.cb.enqueue(func() { f(err) }, always)
	}
}

// setCause records why the client is not connected (Err): the failure of
// the latest connection or attempt, or nil once a connection opens.
func (c *Client[T]) setCause(err error) {
	c.mu.Lock()
	c.lastErr = err
	c.mu.Unlock()
}

// errHoldFull is what the client reports, once, when the hold is full.
var errHoldFull = fmt.Errorf("%w; reading paused until one comes", ErrNoConsumer)

// holding reports whether nothing has consumed messages yet, so that the
// reader keeps what it reads for the first subscriber.
func (c *Client[T]) holding() bool { return !c.consumed.Load() }

// hold keeps the burst for the first subscriber and reports true, or
// reports false when a consumer arrived meanwhile (the burst is then
// published). When the client holds as many messages as WithHold allows,
// the reader waits here for a consumer: the peer is slowed down, nothing is
// lost, and ErrNoConsumer is reported once.
func (c *Client[T]) hold(s *adapters.Session) bool {
	c.feedMu.Lock()
	if c.consumed.Load() {
		c.feedMu.Unlock()
		return false
	}
	if c.holdFull() && (isClosed(s.Left()) || isClosed(s.Conn.Done())) {
		// Full, and this connection is over: the next one must be read
		// (its stages need their messages), so what this one still had
		// buffered is not held but dropped, and reported.
		n := c.in.len()
		c.in.release()
		c.feedMu.Unlock()
		c.reportInboundDrop(&InboundDropError{Count: uint64(n), Reason: ErrNoConsumer})
		return true
	}
	c.held = append(c.held, c.in.first()...)
	c.heldBytes += c.in.bytes()
	c.in.release()
	full := c.holdFull()
	var consumer chan struct{}
	if full {
		if c.consumer == nil {
			c.consumer = make(chan struct{}) // closed by the first consumer
		}
		consumer = c.consumer
	}
	c.feedMu.Unlock()
	if full {
		c.noConsumer.Do(func() {
			if l := c.cfg.logger; l != nil {
				l.Warn("tether: reading paused until something consumes messages (WithHold(0) for a client that consumes none)", "held", c.cfg.hold, "err", ErrNoConsumer)
			}
			c.report(errHoldFull)
		})
		select {
		case <-consumer:
		case <-c.stopping:
		case <-s.Left(): // the connection is over: read on, to its end
		case <-s.Conn.Done():
			// The connection ended under the machine (a heartbeat ping
			// failed): only the reader's next Read tells the machine, so
			// read on, to its end, rather than wait for a consumer.
		}
	}
	return true
}

// isClosed reports whether ch is closed (false for nil).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return ch != nil
	default:
		return false
	}
}

// dropHeld reports the messages still held for a first consumer when the
// client shuts down: none will come (once Close has been called no message
// reaches a subscriber), so they are dropped, as *InboundDropError with
// Reason ErrNoConsumer.
func (c *Client[T]) dropHeld() {
	c.feedMu.Lock()
	n := len(c.held)
	c.held, c.heldBytes = nil, 0
	c.feedMu.Unlock()
	if n > 0 {
		c.reportInboundDrop(&InboundDropError{Count: uint64(n), Reason: ErrNoConsumer})
	}
}

// firstConsumer subscribes with sub; the first subscriber ever also
// receives the messages held for it, ahead of everything published later.
func firstConsumer[T, R any](c *Client[T], opts []stream.SubOption, sub func([]stream.SubOption) R) R {
	c.wanted.Store(true)
	if c.consumed.Load() {
		return sub(opts)
	}
	c.feedMu.Lock()
	defer c.feedMu.Unlock()
	if c.consumed.Load() {
		return sub(opts)
	}
	opts = append(opts[:len(opts):len(opts)], stream.WithInitial(c.held...))
	c.held, c.heldBytes = nil, 0
	r := sub(opts)
	// Only now, with the subscriber in place, may the reader publish
	// instead of holding.
	c.consumed.Store(true)
	if c.consumer != nil {
		close(c.consumer) // a reader waits for this consumer
	}
	return r
}

// isEnvelope reports whether T is stream.Envelope: the router decodes the
// envelope as the client did.
func isEnvelope[T any]() bool {
	var v T
	_, ok := any(v).(stream.Envelope)
	return ok
}
