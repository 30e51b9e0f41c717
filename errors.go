package tether

import (
	"fmt"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
)

// Sentinel errors, shared with the adapters. Match them with errors.Is.
var (
	// ErrClosed: the client was closed, or the reconnect policy gave up.
	ErrClosed = adapters.ErrClosed
	// ErrHeartbeatTimeout: the peer went silent past the pong timeout.
	ErrHeartbeatTimeout = adapters.ErrHeartbeatTimeout
	// ErrReconnectRequested: the cause of the drop that Reconnect makes.
	ErrReconnectRequested = adapters.ErrReconnectRequested
	// ErrBufferFull: the outbound buffer had no room.
	ErrBufferFull = adapters.ErrBufferFull
	// ErrPossiblyLost: written before the connection failed, never
	// confirmed by the peer.
	ErrPossiblyLost = adapters.ErrPossiblyLost
	// ErrMessageTooLarge: larger than the whole outbound buffer.
	ErrMessageTooLarge = adapters.ErrMessageTooLarge
)

// OptionError reports an option that New refused.
type OptionError struct {
	// Option names the option, for example "WithHeartbeat".
	Option string
	// Err says what is wrong; it may wrap the error of the package that
	// validated the value (a *policy.ConfigError, say).
	Err error
}

func (e *OptionError) Error() string { return fmt.Sprintf("tether: option %s: %v", e.Option, e.Err) }

func (e *OptionError) Unwrap() error { return e.Err }

// DropError reports, on the error stream, a message that was not delivered
// or may not have been. Reason is ErrBufferFull, ErrPossiblyLost or ErrClosed.
type DropError struct {
	adapters.Drop
}

func (e *DropError) Error() string {
	return fmt.Sprintf("tether: message %d dropped: %v", e.ID, e.Reason)
}

func (e *DropError) Unwrap() error { return e.Reason }

// TransitionError reports, on the error stream, a transition caused by a
// failure: a failed dial, a drop, a heartbeat timeout, or the policy giving
// up. It unwraps to the transition's cause.
type TransitionError struct {
	Transition fsm.Transition
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("tether: %s: %v", e.Transition.Event, e.Transition.Cause)
}

func (e *TransitionError) Unwrap() error { return e.Transition.Cause }
