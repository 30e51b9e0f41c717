package fsm

import "strconv"

// State is a lifecycle state. The zero value is Idle.
type State uint8

// The lifecycle states. Closed is terminal: no event leaves it.
const (
	// Idle: built, not started.
	Idle State = iota
	// Connecting: a dial and handshake are under way.
	Connecting
	// Open: the connection is up and carries messages.
	Open
	// Closing: the close handshake asked for by the user is under way.
	Closing
	// Waiting: the connection was lost and a reconnect delay is running.
	Waiting
	// Closed: closed by the user, or the reconnect policy gave up. Terminal.
	Closed
	// Disconnecting: the close handshake asked for by Disconnect is under
	// way; the client then waits in Idle for the next Connect.
	Disconnecting
)

var stateNames = [...]string{
	Idle:          "Idle",
	Connecting:    "Connecting",
	Open:          "Open",
	Closing:       "Closing",
	Waiting:       "Waiting",
	Closed:        "Closed",
	Disconnecting: "Disconnecting",
}

// States lists every state in declaration order.
func States() []State {
	return []State{Idle, Connecting, Open, Closing, Disconnecting, Waiting, Closed}
}

// String returns the state's name, for example "Open". The names are stable:
// diagrams, logs and the looplab FSM use them.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	if n, ok := stageName(s); ok {
		return n
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether no event can leave s.
func (s State) Terminal() bool {
	i, ok := lifecycle.stateIdx[s]
	return ok && lifecycle.terminal[i]
}

// Event is a named cause of a transition. The zero value EventNone is never
// fired; it marks the synthetic snapshot a new machine starts from.
type Event uint8

// The lifecycle events.
const (
	// EventNone is the event of the initial snapshot, before any transition.
	EventNone Event = iota
	// EventConnect starts the first dial.
	EventConnect
	// EventDialed reports a dial and handshake that succeeded.
	EventDialed
	// EventDialFailed reports a dial or handshake that failed.
	EventDialFailed
	// EventDropped reports an open connection that ended: a read or write
	// error, or a close frame from the peer.
	EventDropped
	// EventHeartbeatTimeout reports a peer that went silent past the pong
	// timeout. It is a failure, so the reconnect policy runs.
	EventHeartbeatTimeout
	// EventClose is the user asking to close.
	EventClose
	// EventClosed reports that the close handshake finished.
	EventClosed
	// EventRetry starts the next dial after a reconnect wait.
	EventRetry
	// EventGiveUp ends the reconnect loop because the policy said stop.
	EventGiveUp
	// EventDisconnect is the user asking to disconnect and stay idle until
	// the next Connect.
	EventDisconnect
	// EventStageDone reports that an application stage (see DefineStage)
	// passed: the next stage starts, or the connection is ready.
	EventStageDone
	// EventStageFailed reports that an application stage failed or ran out
	// of time. It is a failure, so the reconnect policy runs.
	EventStageFailed
)

var eventNames = [...]string{
	EventNone:             "none",
	EventConnect:          "connect",
	EventDialed:           "dialed",
	EventDialFailed:       "dial_failed",
	EventDropped:          "dropped",
	EventHeartbeatTimeout: "heartbeat_timeout",
	EventClose:            "close",
	EventClosed:           "closed",
	EventRetry:            "retry",
	EventGiveUp:           "give_up",
	EventDisconnect:       "disconnect",
	EventStageDone:        "stage_done",
	EventStageFailed:      "stage_failed",
}

// Events lists every event that can be fired, in declaration order.
func Events() []Event {
	return []Event{EventConnect, EventDialed, EventDialFailed, EventDropped, EventHeartbeatTimeout,
		EventClose, EventClosed, EventRetry, EventGiveUp, EventDisconnect, EventStageDone, EventStageFailed}
}

// String returns the event's stable name, for example "dial_failed".
func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "Event(" + strconv.Itoa(int(e)) + ")"
}
