package adapters

import "errors"

// Sentinel errors. Match them with errors.Is.
var (
	// ErrHeartbeatTimeout is the cause of a heartbeat_timeout transition:
	// nothing arrived within the pong timeout after a probe.
	ErrHeartbeatTimeout = errors.New("tether: heartbeat timeout: no frame from the peer within the pong timeout")
	// ErrReconnectRequested is the cause of the drop made by Reconnect
	// while a connection was open.
	ErrReconnectRequested = errors.New("tether: reconnect requested")
	// ErrClosed is returned by operations on a connection that was closed
	// for good (its machine reached Closed).
	ErrClosed = errors.New("tether: client closed")
	// ErrBufferFull means the outbound buffer had no room. With the Error
	// overflow policy Send returns it; with DropOldest and DropNewest it is
	// the reason of the drop report.
	ErrBufferFull = errors.New("tether: outbound buffer full")
	// ErrPossiblyLost is the reason of a drop report for a message that
	// was written to a connection that then failed before the peer
	// confirmed it. It may or may not have arrived.
	ErrPossiblyLost = errors.New("tether: message possibly lost: written before the connection failed, never confirmed")
	// ErrMessageTooLarge means a message is larger than the whole outbound
	// buffer may ever hold.
	ErrMessageTooLarge = errors.New("tether: message larger than the outbound buffer")
)
