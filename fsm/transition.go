package fsm

import (
	"fmt"
	"strings"
	"time"
)

// TransitionOf is one change of state of a machine whose states are S and
// whose events are E, as a value. Subscribers and hooks see every
// transition, in the order the machine made them.
type TransitionOf[S, E comparable] struct {
	// Seq numbers transitions from 1, with no gaps. The initial snapshot a
	// new subscriber may receive before any transition has Seq 0, and the
	// zero E as its Event.
	Seq   uint64
	From  S
	To    S
	Event E
	// Cause is the error behind the event, when there is one. In the
	// lifecycle: the dial error, the read error or close error,
	// ErrHeartbeatTimeout, or the reconnect policy's reason for giving up.
	Cause error
	// Attempt is the attempt this transition belongs to, as the inputs set
	// it (see [InputOf.Attempt]). In the lifecycle: 0 for the first
	// connection, then 1, 2, ... for reconnects.
	Attempt int
	// CloseCode is the input's numeric code, or 0. In the lifecycle: the
	// WebSocket close code behind the event.
	CloseCode uint16
	// Transport is the sticky label the inputs set (see
	// [InputOf.Transport]). In the lifecycle: the transport in use, such
	// as "websocket".
	Transport string
	// Epoch counts the entries to the states the definition names in
	// [Def.Epochs] (in the lifecycle: to Connecting, so it counts the
	// dials). Inputs can be guarded by it, see [InputOf.Epoch].
	Epoch uint64
	// Time is when the transition happened, read from the machine's clock.
	Time time.Time
}

// Transition is a transition of the connection lifecycle.
type Transition = TransitionOf[State, Event]

// String formats the transition for logs, for example
// "#3 Open --dropped--> Waiting (attempt 1, code 1006: EOF)". States and
// events are written with their String method when they have one, and as
// fmt's %v otherwise (names given only in [Def.StateNames] are not known
// to a Transition).
func (t TransitionOf[S, E]) String() string {
	var b strings.Builder
	b.WriteString("#")
	b.WriteString(uitoa(t.Seq))
	b.WriteString(" ")
	b.WriteString(nameOf(t.From))
	b.WriteString(" --")
	if ev := nameOf(t.Event); ev != "" {
		b.WriteString(ev)
	} else {
		b.WriteString("none") // the zero event of the initial snapshot
	}
	b.WriteString("--> ")
	b.WriteString(nameOf(t.To))
	var details []string
	if t.Attempt > 0 {
		details = append(details, "attempt "+uitoa(uint64(t.Attempt)))
	}
	if t.CloseCode != 0 {
		details = append(details, "code "+uitoa(uint64(t.CloseCode)))
	}
	if t.Transport != "" {
		details = append(details, t.Transport)
	}
	if len(details) > 0 || t.Cause != nil {
		b.WriteString(" (")
		b.WriteString(strings.Join(details, ", "))
		if t.Cause != nil {
			if len(details) > 0 {
				b.WriteString(": ")
			}
			b.WriteString(t.Cause.Error())
		}
		b.WriteString(")")
	}
	return b.String()
}

// nameOf is v's String, or fmt's %v of v.
func nameOf(v any) string {
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprint(v)
}

// InputOf is an event of type E to fire, with the facts the resulting
// transition carries.
type InputOf[E comparable] struct {
	Event E
	// Cause is copied to the transition.
	Cause error
	// Attempt, when not zero, sets the machine's attempt number, which every
	// later transition carries until it is set again. An event listed in
	// [Def.ResetAttempt] (in the lifecycle: EventConnect) resets it to 0.
	Attempt int
	// CloseCode is copied to the transition.
	CloseCode uint16
	// Transport, when not empty, sets the label that every later transition
	// carries (in the lifecycle, the transport's name).
	Transport string
	// Epoch, when not zero, guards the input: it applies only while the
	// machine's epoch equals it, and otherwise fails with ErrStale. In the
	// lifecycle a reader goroutine tags its drop with the epoch of its own
	// connection, so a late report from an old connection can never drop a
	// newer one.
	Epoch uint64
}

// Input is an input of the connection lifecycle.
type Input = InputOf[Event]

func uitoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for v > 0 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return string(buf[i:])
}
