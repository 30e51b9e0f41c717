package tether

import (
	"errors"
	"fmt"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/internal/utf8check"
	"github.com/tether-go/tether/stream"
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
	// ErrPossiblyLost: written (or its write failed part-way), never
	// confirmed by the peer: it may or may not have arrived.
	ErrPossiblyLost = adapters.ErrPossiblyLost
	// ErrUnconfirmable: the cause of the possibly-lost reports of a
	// connection that can confirm nothing (its Ping is unsupported and it
	// is no transport.Confirmer): each time its record of unconfirmed
	// writes fills, the oldest quarter is reported and forgotten, instead
	// of Send waiting for ever.
	ErrUnconfirmable = adapters.ErrUnconfirmable
	// ErrBadMessageType: the cause of a connection dropped because its
	// transport's Read returned a message that is neither Text, Binary,
	// Ping nor Pong (a transport of your own that breaks its contract).
	ErrBadMessageType = adapters.ErrBadMessageType
	// ErrTooLargeToQueue: a message that had to wait in the outbound buffer
	// is larger than its byte limit (WithSendBuffer); matched by an
	// *adapters.QueueSizeError, which carries both sizes.
	ErrTooLargeToQueue = adapters.ErrTooLargeToQueue
	// ErrNoConsumer: messages arrived before anything consumed them, and
	// the client holds as many as WithHold allows; it reads no further
	// until a subscriber, OnMessage, OnRaw or a router takes them.
	// It is of the class ErrDelivery.
	ErrNoConsumer = fmt.Errorf("%w: messages held for a first consumer (Messages, OnMessage, OnRaw or a router); a client that consumes none wants WithHold(0)", ErrDelivery)
	// ErrInvalidCloseCode: CloseWith was given a code that may not be
	// sent in a close frame (1004-1006, 1015, below 1000, 1016-2999, above
	// 4999).
	ErrInvalidCloseCode = errors.New("tether: close code may not be sent")
	// ErrDisconnected is Connect's error when Disconnect ended the attempt
	// it was waiting for.
	ErrDisconnected = errors.New("tether: disconnected while connecting")
	// ErrUnsendableType: Send was given a transport.Message whose type is
	// not Text or Binary.
	ErrUnsendableType = errors.New("tether: only text and binary messages can be sent")
	// ErrInvalidUTF8 is matched by an *InvalidUTF8Error.
	ErrInvalidUTF8 = errors.New("tether: text message is not valid UTF-8")
)

// InvalidUTF8Error is what Send returns for a text message (a string, or
// what the codec made for a text frame) that is not valid UTF-8: RFC 6455
// forbids such a text frame, and a strict peer closes the connection over
// it (1007). Nothing was written or queued. Send a []byte to send arbitrary
// bytes as a binary message.
type InvalidUTF8Error struct {
	// Offset is the position of the first byte that is not valid UTF-8.
	Offset int
	// Len is the message's length in bytes.
	Len int
}

func (e *InvalidUTF8Error) Error() string {
	return fmt.Sprintf("tether: text message of %d bytes is not valid UTF-8 at byte %d; send []byte for a binary message", e.Len, e.Offset)
}

// Unwrap returns ErrInvalidUTF8.
func (e *InvalidUTF8Error) Unwrap() error { return ErrInvalidUTF8 }

// invalidUTF8 describes p, which is not valid UTF-8.
func invalidUTF8(p []byte) *InvalidUTF8Error {
	return &InvalidUTF8Error{Offset: utf8check.InvalidAt(p), Len: len(p)}
}

// SubscriberDropError reports, on the error stream, to OnError and to the
// logger, messages (or errors, or transitions, or routed messages) that a
// subscriber lost to the overflow policy it chose (stream.DropOldest, stream.DropNewest,
// stream.Disconnect), or that a stream.Block subscriber had not taken when
// the client shut down. Reports are aggregated per subscriber: the first
// drop is reported at once, later ones at most once a second of the
// client's clock, with their count, and the rest when the client shuts
// down, so the counts add up to the subscriber's Dropped. It matches
// stream.ErrDropped.
type SubscriberDropError struct {
	// Stream is "messages", "errors" or "transitions", or, for a
	// subscriber of a routed hub (stream.Route on the router given to
	// WithRouter), "route" and the message type, quoted: route "price".
	Stream string
	// Subscriber is the subscriber that lost them.
	Subscriber stream.SubInfo
	// Count is how many values this report covers.
	Count uint64
}

func (e *SubscriberDropError) Error() string {
	return fmt.Sprintf("tether: %s subscriber %s (%s) dropped %d", e.Stream, e.Subscriber, e.Subscriber.Overflow, e.Count)
}

func (e *SubscriberDropError) Unwrap() error { return stream.ErrDropped }

// ErrDiscarded is the Reason of an *InboundDropError for messages the
// transport threw away unread (see transport.DiscardCounter): during a
// close handshake, the server sent them after the client's close frame and
// nothing was reading them; or the connection failed (a heartbeat ping to
// a server that had gone, say) while the reader was busy elsewhere, and
// they were still in the socket.
var ErrDiscarded = errors.New("tether: thrown away unread by the transport")

// InboundDropError reports, on the error stream, to OnError and to the
// logger, inbound data messages that did not reach every consumer they
// were for: read after Close was called (Reason ErrClosed: once Close has
// been called, no message reaches OnRaw, OnMessage, a router or a
// subscriber; this also covers the message whose OnRaw, router handler or
// OnMessage called Close, when later consumers were to have it, and
// messages read before Close that were still with the reader, not yet
// handed to the subscribers, when it was called), thrown away by
// the transport during a close handshake or when the connection failed
// while the reader was busy (Reason ErrDiscarded; after Close the
// WebSocket transport keeps nothing for the reader, see
// transport.ReaderReleaser), or read,
// while nothing consumed messages yet and the hold was full (WithHold),
// from a connection that had ended (Reason ErrNoConsumer: the rest of that
// connection is read and dropped so that the next one can be read), or
// still held for a first consumer when the client shuts down (Reason
// ErrNoConsumer). After
// Disconnect, every message the server sent before answering the close
// frame is delivered, if the handshake ends within the close timeout (see
// Disconnect); the WebSocket transport throws some away only on a
// connection nobody reads (the client always announces its reader, see
// transport.ReaderExpecter), and counts them. Reports are per burst of
// messages read. Counted against the last consumer a message was for, the
// deliveries and these counts add up to what the server sent. A client
// that never had a consumer (WithHold(0), nothing subscribed) reports none:
// its messages were for nobody. It is of the class ErrDelivery and matches
// its Reason.
type InboundDropError struct {
	// Count is how many messages this report covers.
	Count uint64
	// Reason is ErrClosed, ErrDiscarded or ErrNoConsumer.
	Reason error
}

func (e *InboundDropError) Error() string {
	if e.Count == 1 {
		return fmt.Sprintf("tether: 1 inbound message dropped: %v", e.Reason)
	}
	return fmt.Sprintf("tether: %d inbound messages dropped: %v", e.Count, e.Reason)
}

// Unwrap returns the Reason.
func (e *InboundDropError) Unwrap() error { return e.Reason }

// CallbackDropError reports callbacks (OnError, OnTransition, OnRetry,
// OnRTT...) that were not run because more than 1024 were waiting for a
// slow callback to return. It is reported on the error stream and to the
// logger, and passed to OnError, once the queue has room again. It is of
// the class ErrDelivery; find it with errors.As.
type CallbackDropError struct {
	// Count is how many callbacks this report covers.
	Count uint64
}

func (e *CallbackDropError) Error() string {
	return fmt.Sprintf("tether: %d callbacks dropped: a callback is too slow for what arrives", e.Count)
}

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

// Drop is an outbound message that was not delivered, as OnDrop and
// *DropError carry it: its ID (SendID), value, size and the reason.
type Drop = adapters.Drop

// DropError reports, on the error stream, a message that was not delivered:
// dropped by the overflow policy (ErrBufferFull), or still queued when the
// client closed (ErrClosed). Messages that may have been lost are reported
// together, once per connection, as a *PossiblyLostError; OnDrop receives
// every one of them on its own.
type DropError struct {
	Drop
}

func (e *DropError) Error() string {
	return fmt.Sprintf("tether: message %d dropped: %v", e.ID, e.Reason)
}

func (e *DropError) Unwrap() error { return e.Reason }

// PossiblyLostError reports, on the error stream, to OnError and to the
// logger, once per connection end, the messages written on that connection
// that the peer never confirmed before it ended: each may or may not have
// arrived. It matches ErrPossiblyLost, and the connection's failure (Cause)
// with errors.Is and errors.As. OnDrop receives each of them on its own as
// well, with its Value.
type PossiblyLostError struct {
	// IDs are the messages' identities (as SendID returned them), in the
	// order they were written (with concurrent senders that need not be
	// the order of the IDs).
	IDs []uint64
	// Bytes is the sum of their payload sizes.
	Bytes int
	// Cause is why the connection ended, when known.
	Cause error
}

func (e *PossiblyLostError) Error() string {
	s := fmt.Sprintf("tether: %d messages (%d bytes) possibly lost: written, never confirmed before the connection ended", len(e.IDs), e.Bytes)
	if len(e.IDs) > 0 {
		s = fmt.Sprintf("tether: %d messages (%d bytes, ids %d to %d) possibly lost: written, never confirmed before the connection ended",
			len(e.IDs), e.Bytes, e.IDs[0], e.IDs[len(e.IDs)-1])
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns ErrPossiblyLost and the cause.
func (e *PossiblyLostError) Unwrap() []error {
	if e.Cause == nil {
		return []error{ErrPossiblyLost}
	}
	return []error{ErrPossiblyLost, e.Cause}
}

// ConnectError is what Connect returns when its ctx ends before the
// connection opens: the ctx's error, and the latest failure of the
// attempts so far (nil when there was none yet, the first dial still
// under way). It matches both with errors.Is and errors.As, so
// errors.Is(err, context.DeadlineExceeded) and
// errors.As(err, new(*tls.CertificateVerificationError)) can both hold.
// The client keeps trying in the background.
type ConnectError struct {
	// Err is the ctx's error.
	Err error
	// Last is the latest failed transition (a failed dial, a drop), as
	// Client.Err returned it when ctx ended, or nil.
	Last *TransitionError
}

func (e *ConnectError) Error() string {
	if e.Last == nil {
		return "tether: connect: " + e.Err.Error() + " (no attempt has failed yet)"
	}
	return "tether: connect: " + e.Err.Error() + "; last failure: " + e.Last.Error()
}

// Unwrap returns the ctx's error and, when there is one, the latest
// failure.
func (e *ConnectError) Unwrap() []error {
	if e.Last == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Last}
}

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
