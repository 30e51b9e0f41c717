package fsm

import (
	"strings"
	"time"
)

// Transition is one change of state, as a value. Subscribers and hooks see
// every transition, in the order the machine made them.
type Transition struct {
	// Seq numbers transitions from 1, with no gaps. The initial snapshot a
	// new subscriber may receive before any transition has Seq 0.
	Seq   uint64
	From  State
	To    State
	Event Event
	// Cause is the error behind the event, when there is one: the dial
	// error, the read error or close error, ErrHeartbeatTimeout, or the
	// reconnect policy's reason for giving up.
	Cause error
	// Attempt is the reconnect attempt this transition belongs to: 0 for
	// the first connection, then 1, 2, ... for reconnects.
	Attempt int
	// CloseCode is the WebSocket close code behind the event, or 0.
	CloseCode uint16
	// Transport names the transport in use, such as "websocket".
	Transport string
	// Epoch counts the dials: it grows by one on every entry to Connecting.
	// Inputs can be guarded by it, see [Input.Epoch].
	Epoch uint64
	// Time is when the transition happened, read from the machine's clock.
	Time time.Time
}

// String formats the transition for logs, for example
// "#3 Open --dropped--> Waiting (attempt 1, code 1006: EOF)".
func (t Transition) String() string {
	var b strings.Builder
	b.WriteString("#")
	b.WriteString(uitoa(t.Seq))
	b.WriteString(" ")
	b.WriteString(t.From.String())
	b.WriteString(" --")
	b.WriteString(t.Event.String())
	b.WriteString("--> ")
	b.WriteString(t.To.String())
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

// Input is an event to fire, with the facts the resulting Transition carries.
type Input struct {
	Event Event
	// Cause is copied to the Transition.
	Cause error
	// Attempt, when not zero, sets the machine's attempt number, which every
	// later transition carries until it is set again. EventConnect from
	// Idle resets it to 0.
	Attempt int
	// CloseCode is copied to the Transition.
	CloseCode uint16
	// Transport, when not empty, sets the transport name that every later
	// transition carries.
	Transport string
	// Epoch, when not zero, guards the input: it applies only while the
	// machine's epoch equals it, and otherwise fails with ErrStale. A reader
	// goroutine tags its drop with the epoch of its own connection, so a late
	// report from an old connection can never drop a newer one.
	Epoch uint64
}

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
