package fsm

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrForbidden matches every *ForbiddenError.
	ErrForbidden = errors.New("tether/fsm: event not allowed in this state")
	// ErrStale means an input's Epoch no longer matches the machine's: it
	// came from a connection that has since been replaced. Nothing changed.
	ErrStale = errors.New("tether/fsm: stale input from an earlier connection")
	// ErrMachineClosed means the Machine was closed and no longer takes
	// events.
	ErrMachineClosed = errors.New("tether/fsm: machine closed")
)

// ForbiddenError reports an event that the transition table does not allow in
// the state the machine was in. The machine did not change.
type ForbiddenError struct {
	State State
	Event Event
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("tether/fsm: event %q not allowed in state %s", e.Event, e.State)
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }
