package tether

import "errors"

// Error classes. Every error on the error stream (Errors, OnError) matches
// exactly one of them with errors.Is, so a program can select what it
// cares about without knowing every type:
//
//	for err := range c.Errors(ctx).All() {
//		switch {
//		case errors.Is(err, tether.ErrDelivery):
//			// a message was not delivered: resend, count, alert
//		case errors.Is(err, tether.ErrMessage):
//			// a server sent something this program cannot use
//		case errors.Is(err, tether.ErrConnection):
//			// the connection came and went; the policy decides
//		}
//	}
//
// errors.As still finds the concrete type (a *TransitionError, a
// *stream.DecodeError, a *DropError...), which says more.
var (
	// ErrConnection is the class of what happened to the connection or an
	// attempt at one: a failed dial, a drop, a heartbeat timeout, a close
	// handshake that failed, the give-up (each a *TransitionError), a
	// transport that cannot ping (adapters.ErrCannotPing), an attempt that
	// ignored its ctx at shutdown (adapters.ErrDialAbandoned).
	ErrConnection = errors.New("tether: connection")
	// ErrMessage is the class of an inbound message the client could not
	// use: one it could not decode (*stream.DecodeError) or route
	// (*stream.RouteError), or one the router's fallback
	// (stream.WithFallback) returned an error for.
	// The connection stays open.
	ErrMessage = errors.New("tether: inbound message")
	// ErrDelivery is the class of messages not delivered, or held: an
	// outbound message dropped (*DropError) or possibly lost
	// (*PossiblyLostError), inbound values a subscriber's overflow policy
	// dropped (*SubscriberDropError), inbound messages that reached no
	// consumer after Close or that the transport threw away unread
	// (*InboundDropError), callbacks dropped (*CallbackDropError),
	// messages held for a first consumer (ErrNoConsumer).
	ErrDelivery = errors.New("tether: delivery")
)

// classified puts an error from another package into a class without
// hiding it: errors.Is and errors.As see both.
type classified struct {
	class, err error
}

func (e *classified) Error() string   { return e.err.Error() }
func (e *classified) Unwrap() []error { return []error{e.err, e.class} }

// connectionError classes err (from the adapters) as ErrConnection.
func connectionError(err error) error { return &classified{class: ErrConnection, err: err} }

// messageError classes err (a codec's, a router's or a handler's) as
// ErrMessage.
func messageError(err error) error { return &classified{class: ErrMessage, err: err} }

// Is reports whether target is ErrConnection.
func (e *TransitionError) Is(target error) bool { return target == ErrConnection }

// Is reports whether target is ErrDelivery.
func (e *DropError) Is(target error) bool { return target == ErrDelivery }

// Is reports whether target is ErrDelivery.
func (e *PossiblyLostError) Is(target error) bool { return target == ErrDelivery }

// Is reports whether target is ErrDelivery.
func (e *SubscriberDropError) Is(target error) bool { return target == ErrDelivery }

// Is reports whether target is ErrDelivery.
func (e *CallbackDropError) Is(target error) bool { return target == ErrDelivery }

// Is reports whether target is ErrDelivery.
func (e *InboundDropError) Is(target error) bool { return target == ErrDelivery }
