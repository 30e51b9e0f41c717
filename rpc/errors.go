package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/tether-go/tether"
)

var (
	// ErrTimeout is the error of a request that had no reply within its
	// timeout (WithTimeout, Timeout).
	ErrTimeout = errors.New("rpc: no reply within the timeout")
	// ErrLost is the error of a request whose connection ended after it
	// was written and before its reply came: the server may or may not
	// have run it. The tether client says which connection took each
	// request (tether.Client.SendTracked), so a request still in its send
	// buffer when a connection ends, or kept for the next one because the
	// connection ended just as it was being written, is not lost: it goes
	// out on the next connection, once. ErrLost also covers a request
	// whose write failed with the connection failing mid-way (a reset, a
	// broken pipe: tether's Client.Send returns that error as its only
	// report, and the request may have arrived), then matching the write's
	// error too. Only a request marked Idempotent is sent again instead.
	// The error also matches the connection's cause with errors.Is and
	// errors.As. A request that is not Idempotent ends when its connection
	// ends, before the reconnect policy decides anything, so its error
	// carries that connection's failure alone. One that was still waiting
	// when the policy gave up (an Idempotent one kept for the next
	// connection, or one whose write was under way) matches the give-up
	// (a *policy.StopError, with the last connection's failure) and
	// tether.ErrClosed. A request a Close ended (the rpc client's, or
	// the tether client's) matches ErrClosed instead of a cause: see
	// ErrClosed.
	ErrLost = errors.New("rpc: the connection ended before the reply")
	// ErrClosed matches the error of every request and subscription that
	// a Close ended, the rpc client's (Client.Close) or its tether
	// client's, and of every one made after it, or after the tether client
	// closed by itself because its reconnect policy gave up (such a
	// request never went out; tether.ErrClosed matches too). Those in
	// flight when the policy gave up end Lost with the give-up instead
	// (see ErrLost): the network dropped them, nobody closed them. When it was the tether client's Close,
	// tether.ErrClosed matches too. A pending request a Close ended had
	// been written (or handed to an open connection): it ends Lost and
	// matches ErrLost as well, since the server may have run it, even one
	// marked Idempotent (no connection follows to send it again on).
	// One that was never written (made after the Close, or still in the
	// send buffer of a tether client that never opened when it closed)
	// ends Unsent and does not match ErrLost. One whose write was under
	// way as the tether client closed ends when the write returns, and one
	// still in its send buffer once the tether client is done (its Done):
	// Lost if it went out (the client's flusher may have been writing it),
	// Unsent if it never did. A subscription a Close ended
	// is Unsubscribed, and Err matches ErrClosed.
	ErrClosed = errors.New("rpc: closed")
	// ErrNotBound is returned by a request or subscription made before
	// Bind gave the client a connection.
	ErrNotBound = errors.New("rpc: no connection: call Bind first")
	// ErrMalformedReply matches a *MalformedReplyError.
	ErrMalformedReply = errors.New("rpc: malformed reply")
	// ErrUnknownReply matches an *UnknownReplyError.
	ErrUnknownReply = errors.New("rpc: reply to no pending request")
	// ErrRefused matches a *RefusedError.
	ErrRefused = errors.New("rpc: the server refused the subscription")
	// ErrKeyInUse matches a *KeyInUseError.
	ErrKeyInUse = errors.New("rpc: the server gave a subscription a key already in use")
	// ErrDecode matches a *DecodeError.
	ErrDecode = errors.New("rpc: a value from the server does not decode")
)

// RemoteError is an error the server answered a request with: a JSON-RPC
// error object (code, message, data). A Client's Request returns it as the
// request's error. Its text is bounded, whatever the server sent: at most
// 256 bytes of the message and stream.MaxExcerpt (128) of the data, each
// cut on a character boundary and followed by "..." when longer; Message
// and Data keep them whole.
type RemoteError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *RemoteError) Error() string {
	s := "rpc: server error " + strconv.Itoa(e.Code) + ": " + cutText(e.Message, maxErrText)
	if len(e.Data) > 0 && string(e.Data) != "null" {
		s += " (" + cutData(e.Data) + ")"
	}
	return s
}

// MalformedReplyError is the error of a request whose reply came but
// cannot be used. Payload is the reply as it came (a copy). Its text holds
// at most 256 bytes of the protocol's reason, which may quote part of the
// reply; it does not print Payload itself.
type MalformedReplyError struct {
	ID      uint64
	Payload []byte
	Err     error
}

func (e *MalformedReplyError) Error() string {
	return fmt.Sprintf("rpc: malformed reply to request %d: %s", e.ID, cutErr(e.Err))
}

// Unwrap returns the protocol's reason.
func (e *MalformedReplyError) Unwrap() error { return e.Err }

// Is matches ErrMalformedReply.
func (e *MalformedReplyError) Is(target error) bool { return target == ErrMalformedReply }

// UnknownReplyError reports, on the client's error stream, a reply whose id
// matches no pending request: a reply that came after its request timed
// out, was cancelled or was reported lost, or a server's answer with no id
// (id null) to a request it could not read. ID is 0 when the reply's id is
// null or none the client could have sent (the protocol could not read
// it); Payload has it as it came. Remote is that reply's error object, if
// it had one; Payload is the reply (a copy). Its text quotes the error
// object as RemoteError's does, bounded, and does not print Payload.
type UnknownReplyError struct {
	ID      uint64
	Remote  *RemoteError
	Payload []byte
}

func (e *UnknownReplyError) Error() string {
	s := fmt.Sprintf("rpc: reply to no pending request (id %d)", e.ID)
	if e.ID == 0 {
		s = "rpc: reply without an id the client could have sent (null, or not one of its ids)"
	}
	if e.Remote != nil {
		s += ": " + e.Remote.Error()
	}
	return s
}

// Is matches ErrUnknownReply.
func (e *UnknownReplyError) Is(target error) bool { return target == ErrUnknownReply }

// Unwrap returns the reply's error object, when it had one.
func (e *UnknownReplyError) Unwrap() error {
	if e.Remote == nil {
		return nil
	}
	return e.Remote
}

// RefusedError is why a server did not subscribe (or unsubscribe): the
// result its protocol read as a refusal. A subscribe request answered
// with an error object fails with that *RemoteError instead. Its text
// quotes at most stream.MaxExcerpt (128) bytes of the result, followed by
// "..." when longer; Result keeps it whole.
type RefusedError struct {
	Topic  string
	Result json.RawMessage
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("rpc: the server refused topic %q: %s", e.Topic, cutData(e.Result))
}

// Is matches ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// KeyInUseError is why a subscription failed when the server answered
// its subscribe request with the key (the subscription id) of another
// live subscription: its notifications could not be told apart. The
// subscription that holds the key keeps it, and its notifications; the
// server may hold the failed one too, and the client does not unsubscribe
// it (that would end the other with it). On a new connection, in the
// Resubscribing stage, it fails that subscription as a refusal does. Its
// text quotes at most stream.MaxExcerpt (128) bytes of the key.
type KeyInUseError struct {
	// Topic is the subscription that failed.
	Topic string
	// Key is the key the server gave it.
	Key string
	// HeldBy is the topic of the subscription that holds the key.
	HeldBy string
}

func (e *KeyInUseError) Error() string {
	return fmt.Sprintf("rpc: the server gave topic %q the key %s of topic %q", e.Topic, quoteCut(e.Key), e.HeldBy)
}

// Is matches ErrKeyInUse.
func (e *KeyInUseError) Is(target error) bool { return target == ErrKeyInUse }

// DecodeError reports a value from the server that did not decode into
// its Go type: a notification that did not decode into its
// subscription's type, reported on the client's error stream (Topic set;
// the notification is not delivered), or a result that did not decode
// into Call's type, Call's error (Method set). Its text holds at most 256
// bytes about the codec's error and quotes nothing of the data: the
// errors that would (encoding/json quotes a number that overflows its
// field, time.Time the text that is no time) are rephrased or named by
// their type, as stream.DecodeError does; Err keeps the error whole.
type DecodeError struct {
	// Topic is the subscription's topic, for a notification.
	Topic string
	// Method is the request's method, for a result.
	Method string
	// Target is the Go type decoded into, as %T prints it ("int").
	Target string
	// Data is the notification's data, or the result, whole.
	Data []byte
	// Err is the codec's error.
	Err error
}

func (e *DecodeError) Error() string {
	what := fmt.Sprintf("notification for %q", e.Topic)
	if e.Method != "" {
		what = fmt.Sprintf("result of %q", e.Method)
	}
	into := ""
	if e.Target != "" {
		into = " into " + e.Target
	}
	return "rpc: the " + what + " does not decode" + into + ": " + codecErr(e.Err)
}

// Is matches ErrDecode.
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// Unwrap returns the codec's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// errTetherClosed is the cause of what the tether client's Close ended:
// it matches ErrClosed and tether.ErrClosed.
var errTetherClosed = fmt.Errorf("%w: %w", ErrClosed, tether.ErrClosed)

// closedCause is err, a refusal of the tether client, made to match
// ErrClosed too when it says the tether client closed.
func closedCause(err error) error {
	if errors.Is(err, tether.ErrClosed) && !errors.Is(err, ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// lost is the error of a request lost with its connection's cause.
func lost(cause error) error {
	if cause == nil {
		return ErrLost
	}
	return fmt.Errorf("%w: %w", ErrLost, cause)
}
