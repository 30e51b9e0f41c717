package tether

import "github.com/tether-go/tether/fsm"

// Status is the coarse connection status of the seed's useWebSocket:
// connecting, open, closing or closed. State gives the full lifecycle.
type Status uint8

// Statuses.
const (
	// StatusClosed: not started yet, or closed for good.
	StatusClosed Status = iota
	// StatusConnecting: dialing, or waiting to reconnect.
	StatusConnecting
	// StatusOpen: connected.
	StatusOpen
	// StatusClosing: the close handshake is under way.
	StatusClosing
)

// String returns "connecting", "open", "closing" or "closed".
func (s Status) String() string {
	switch s {
	case StatusConnecting:
		return "connecting"
	case StatusOpen:
		return "open"
	case StatusClosing:
		return "closing"
	}
	return "closed"
}

// StatusOf maps a lifecycle state onto the four statuses: Idle and Closed
// are closed, Connecting, the application stages (WithStage) and Waiting
// (a reconnect is pending) are connecting, Open is open, Closing and
// Disconnecting are closing.
func StatusOf(s fsm.State) Status {
	if s.IsStage() {
		return StatusConnecting
	}
	switch s {
	case fsm.Connecting, fsm.Waiting:
		return StatusConnecting
	case fsm.Open:
		return StatusOpen
	case fsm.Closing, fsm.Disconnecting:
		return StatusClosing
	}
	return StatusClosed
}
