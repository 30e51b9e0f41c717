package fsm

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrForbidden matches every *ForbiddenErrorOf.
	ErrForbidden = errors.New("tether/fsm: event not allowed in this state")
	// ErrRefused matches every *RefusedErrorOf: a rule's guard refused the
	// input.
	ErrRefused = errors.New("tether/fsm: refused by the rule's guard")
	// ErrStale means an input's Epoch no longer matches the machine's: in
	// the lifecycle, it came from a connection that has since been
	// replaced. Nothing changed.
	ErrStale = errors.New("tether/fsm: stale input from an earlier epoch")
	// ErrMachineClosed means the machine was closed and no longer takes
	// events.
	ErrMachineClosed = errors.New("tether/fsm: machine closed")
	// ErrBadOption means an option was made for a machine of other types,
	// such as WithRejected with another event type.
	ErrBadOption = errors.New("tether/fsm: option does not fit this machine")
)

// Definition errors: every *DefError matches ErrInvalidDef and one of the
// others.
var (
	// ErrInvalidDef matches every *DefError.
	ErrInvalidDef = errors.New("tether/fsm: invalid machine definition")
	// ErrDuplicate: two rules for the same state and event, a state listed
	// twice, or two states (or two events) with the same name.
	ErrDuplicate = errors.New("tether/fsm: duplicate")
	// ErrUnknownName: a rule, Initial, Terminal, Epochs, ResetAttempt,
	// StateNames or EventNames names a state or event the definition does
	// not have.
	ErrUnknownName = errors.New("tether/fsm: unknown state or event")
	// ErrUnreachable: no sequence of rules leads from Initial to a state.
	ErrUnreachable = errors.New("tether/fsm: unreachable state")
	// ErrLeavesTerminal: a rule leaves a terminal state.
	ErrLeavesTerminal = errors.New("tether/fsm: rule leaves a terminal state")
	// ErrBadName: a name is empty or not an identifier.
	ErrBadName = errors.New("tether/fsm: bad name")
)

// DefError is one problem of a [Def]. [NewOf] and [Def.Validate] report all
// of them, joined with errors.Join; errors.As finds the first.
type DefError struct {
	// Err is the kind: ErrDuplicate, ErrUnknownName, ErrUnreachable,
	// ErrLeavesTerminal or ErrBadName.
	Err error
	// Rule is the index in Def.Rules of the rule at fault, or -1.
	Rule int
	// Name is the name of the state or event at fault.
	Name string
	// Detail says what is wrong, in words.
	Detail string
}

func (e *DefError) Error() string { return "tether/fsm: invalid machine definition: " + e.Detail }

// Unwrap returns the kind, so errors.Is(err, ErrUnreachable) works.
func (e *DefError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalidDef) true.
func (e *DefError) Is(target error) bool { return target == ErrInvalidDef }

// ForbiddenErrorOf reports an event that the transition table does not allow
// in the state the machine was in. The machine did not change.
type ForbiddenErrorOf[S, E comparable] struct {
	State S
	Event E

	stateName, eventName string // as the machine's definition names them
}

// ForbiddenError is a [ForbiddenErrorOf] of the connection lifecycle.
type ForbiddenError = ForbiddenErrorOf[State, Event]

func (e *ForbiddenErrorOf[S, E]) Error() string {
	return fmt.Sprintf("tether/fsm: event %q not allowed in state %s",
		orName(e.eventName, e.Event), orName(e.stateName, e.State))
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenErrorOf[S, E]) Is(target error) bool { return target == ErrForbidden }

// RefusedErrorOf reports an input that the table allows but that the rule's
// guard refused. The machine did not change. Err is what the guard
// returned: errors.Is and errors.As reach it through Unwrap.
type RefusedErrorOf[S, E comparable] struct {
	From  S
	Event E
	To    S
	Err   error

	fromName, eventName, toName string
}

// RefusedError is a [RefusedErrorOf] of the connection lifecycle.
type RefusedError = RefusedErrorOf[State, Event]

func (e *RefusedErrorOf[S, E]) Error() string {
	return fmt.Sprintf("tether/fsm: guard of %s --%s--> %s refused: %v",
		orName(e.fromName, e.From), orName(e.eventName, e.Event), orName(e.toName, e.To), e.Err)
}

// Unwrap returns the guard's error.
func (e *RefusedErrorOf[S, E]) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedErrorOf[S, E]) Is(target error) bool { return target == ErrRefused }

func orName(name string, v any) string {
	if name != "" {
		return name
	}
	return nameOf(v)
}
