package tether

import (
	"github.com/tether-go/tether/fsm"
)

// record is the client's first hook: it records the transition in Stats
// (with the reconnect decision, when it enters Waiting), keeps the trace,
// publishes the transition on the transitions stream, reports failures on
// the error stream and queues the callbacks. It runs on the machine's actor.
func (c *Client[T]) record(tr fsm.Transition) (fsm.Input, bool) {
	// Stats change before anyone can see the transition, with the
	// reconnect decision when it enters Waiting (made now, acted on by the
	// reconnect adapter's own hook later).
	d, decided := c.rec.Decide(tr)
	c.stats.entered(tr, d, decided)
	c.mu.Lock()
	if len(c.trace) == c.cfg.traceLimit {
		c.trace = append(c.trace[:0], c.trace[1:]...)
	}
	c.trace = append(c.trace, tr)
	c.mu.Unlock()
	// Err changes before anyone can see the transition.
	var fail *TransitionError
	switch {
	case tr.To == fsm.Open:
		c.setCause(nil)
	case tr.Cause != nil && failure(tr):
		fail = &TransitionError{Transition: tr}
		c.setCause(fail)
	}
	c.transitions.Publish(tr) // on the actor, one at a time: in order
	if fail != nil {
		c.report(fail)
	}
	if f := c.cfg.onTransition; f != nil {
		c.cb.post(func() { f(tr) })
	}
	if tr.To == fsm.Open && (c.cfg.onOpen != nil || c.cfg.onTransition != nil) {
		// The reader of this connection holds its first message until the
		// callbacks queued so far (OnOpen among them) have run, so OnOpen
		// always comes before OnMessage.
		gate := make(chan struct{})
		c.gate.Store(&gate)
		f := c.cfg.onOpen
		c.cb.postAlways(func() {
			if f != nil {
				f(tr)
			}
			close(gate)
		})
	}
	if tr.To == fsm.Open {
		c.wasOpen = true
	}
	if socketEnded(tr) && c.wasOpen {
		c.wasOpen = false
		if f := c.cfg.onClose; f != nil {
			c.cb.postAlways(func() { f(tr) })
		}
	}
	if f := c.cfg.onDone; f != nil && tr.To == fsm.Closed {
		c.cb.postAlways(func() { f(tr) })
	}
	if tr.To == fsm.Closed {
		// Closed is terminal: whether the user closed or the policy gave up,
		// shut down now, so the streams end and Done closes.
		c.closeOnce.Do(c.startShutdown)
	}
	return fsm.Input{}, false
}

// socketEnded reports whether tr ends a connection whose socket was open:
// a drop, heartbeat timeout or failed stage (Open or a stage to Waiting),
// or the end of a close handshake (to Closed, or to Idle after
// Disconnect). Each socket's opening is followed by exactly one such
// transition; OnClose hears of those whose connection reached Open.
func socketEnded(tr fsm.Transition) bool {
	switch {
	case tr.From == fsm.Open || tr.From.IsStage():
		return tr.To == fsm.Waiting
	case tr.From == fsm.Closing, tr.From == fsm.Disconnecting:
		return tr.To == fsm.Closed || tr.To == fsm.Idle
	}
	return false
}

// failure reports whether tr's cause is an error worth reporting, as opposed
// to the ordinary end of a close the user asked for.
func failure(tr fsm.Transition) bool {
	switch tr.Event {
	case fsm.EventDialFailed, fsm.EventDropped, fsm.EventHeartbeatTimeout, fsm.EventGiveUp, fsm.EventStageFailed:
		return tr.From != fsm.Closing && tr.From != fsm.Disconnecting
	case fsm.EventClosed:
		return true // the close handshake failed (timed out)
	}
	return false
}

// Trace returns the recorded transitions, oldest first: the initial
// snapshot and every transition since, up to the last WithTraceLimit
// (default 256).
func (c *Client[T]) Trace() []fsm.Transition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]fsm.Transition(nil), c.trace...)
}
