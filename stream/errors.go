package stream

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/tether-go/tether/internal/errtext"
)

// Sentinel errors. Match them with [errors.Is].
var (
	// ErrSlowSubscriber is the [Subscription.Err] of a subscriber that the
	// [Disconnect] overflow policy closed because its queue was full. An Rx
	// subscriber receives it as its last item.
	ErrSlowSubscriber = errors.New("tether/stream: slow subscriber disconnected")
	// ErrDropped is matched by reports of values that a subscriber's
	// overflow policy ([DropOldest], [DropNewest], [Disconnect]) dropped, or
	// that a [Block] subscriber could not take once [Hub.Unblock] was
	// called. The stream package counts drops ([Subscription.Dropped]) and
	// calls [OnDrop] and [OnAnyDrop]; users of a hub, such as the tether
	// Client, wrap this sentinel in the reports they make of them.
	ErrDropped = errors.New("tether/stream: value dropped")
	// ErrInvalidConfig is matched by every [*ConfigError].
	ErrInvalidConfig = errors.New("tether/stream: invalid configuration")
	// ErrUnknownType means [Router.Dispatch] found no route for an envelope's
	// type and no fallback is set. It comes wrapped in a [*RouteError].
	ErrUnknownType = errors.New("tether/stream: no route for message type")
	// ErrRouterClaimed means [Router.Claim] found the router claimed
	// already: by another Client, or by one that has closed.
	ErrRouterClaimed = errors.New("tether/stream: router already serves a client (give each client its own router)")
	// ErrCut means [Router.Unblock] cut a [Router.Dispatch] short: the
	// registrations after the one running did not get the envelope. It
	// comes wrapped in a [*RouteError] that says how many.
	ErrCut = errors.New("tether/stream: dispatch cut short, the router's owner stopped")
	// ErrClosed means the [Router] was closed. It comes wrapped in a
	// [*RouteError].
	ErrClosed = errors.New("tether/stream: closed")
	// ErrUnsupportedType means a codec cannot encode or decode a Go type,
	// for example [Raw] asked to decode into a struct. It comes wrapped in a
	// [*DecodeError] or an [*EncodeError].
	ErrUnsupportedType = errors.New("tether/stream: type not supported by codec")
	// ErrInvalidUTF8 means [Raw] was asked to send a string that is not
	// valid UTF-8 as a text frame. It comes wrapped in an [*EncodeError].
	ErrInvalidUTF8 = errors.New("tether/stream: text is not valid UTF-8")
)

// ConfigError reports an option value that [Hub.Subscribe] or [NewHub]
// refused. It matches [ErrInvalidConfig] with errors.Is. A refused
// subscription is returned already closed, with the ConfigError as its
// [Subscription.Err]; the channel of a refused [Via] (an Rx view) holds it
// as its only item.
type ConfigError struct {
	// Option names the option, for example "WithBuffer".
	Option string
	// Value is the refused value.
	Value any
	// Problem says what is wrong with it.
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("tether/stream: invalid %s (%v): %s", e.Option, e.Value, e.Problem)
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// MaxExcerpt is the most bytes of a payload a [DecodeError] keeps, and the
// most bytes of a message type that the text of an error of this package
// quotes: a longer type is cut on a character boundary, and "..." follows
// the closing quote. The type fields keep the whole type.
const MaxExcerpt = 128

// maxErrText is the most bytes of a codec's error that the text of a
// [DecodeError] holds: a longer one is cut on a character boundary and ends
// with "..." (encoding/json's errors, which quote the payload, are
// rephrased: see internal/errtext.Codec). The codec's error itself is kept whole
// in DecodeError.Err.
const maxErrText = 256

// DecodeError reports a payload that could not be decoded: a malformed
// envelope, or an envelope whose data does not fit the type registered for
// its message type. The connection that carried it is not at fault and
// stays open; the Client delivers the error on its error stream.
//
// Error() names the codec, the message type and the payload size but never
// prints the payload, which may hold credentials; read Payload for a
// bounded excerpt. encoding/json's own errors quote what they choke on (a
// number literal, a character), and so do the errors of types that decode
// themselves (time.Time quotes the text that is no time), so Error()
// rephrases those it knows from their fields (the kind of value, the Go
// type, the offset, the time layout) and names any other error, a custom
// codec's included, by its Go type only; Err keeps the codec's error whole.
// The text is bounded too, whatever the peer sent: it quotes at most
// [MaxExcerpt] bytes of the type and holds at most 256 bytes about the
// codec's error.
type DecodeError struct {
	// Codec is the codec's [Codec.Name], for example "json".
	Codec string
	// Type is the envelope's message type when it is known, else "".
	Type string
	// Target is the Go type that was being decoded into, for example
	// "main.Metrics".
	Target string
	// Payload is a copy of at most [MaxExcerpt] bytes from the start of
	// what failed to decode: the whole payload for a malformed envelope or
	// a [Decode], the envelope's data member for a routed message whose
	// data does not fit its type.
	Payload []byte
	// Size is the length of what failed to decode (as for Payload).
	Size int
	// Err is the codec's own error, for example a *json.SyntaxError.
	Err error
}

// NewDecodeError builds a DecodeError for a custom [Codec], copying a
// bounded excerpt of data (which may be a borrowed buffer). target is the
// value that was being decoded into (its Go type is recorded) and may be
// nil. If err already is a *DecodeError, a copy of it is returned with
// Type filled in when it was empty.
func NewDecodeError(codec, typ string, target any, data []byte, err error) *DecodeError {
	var de *DecodeError
	if errors.As(err, &de) {
		cp := *de
		if cp.Type == "" {
			cp.Type = typ
		}
		return &cp
	}
	n := min(len(data), MaxExcerpt)
	return &DecodeError{
		Codec:   codec,
		Type:    typ,
		Target:  typeName(target),
		Payload: append([]byte(nil), data[:n]...),
		Size:    len(data),
		Err:     err,
	}
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("tether/stream: decode ")
	b.WriteString(e.Codec)
	if e.Type != "" {
		b.WriteString(" message type ")
		b.WriteString(quoteCut(e.Type))
	}
	if e.Target != "" {
		b.WriteString(" into ")
		b.WriteString(e.Target)
	}
	b.WriteString(" (")
	b.WriteString(strconv.Itoa(e.Size))
	b.WriteString(" bytes)")
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(errtext.Codec(e.Err, maxErrText, ownError))
	}
	return b.String()
}

// Unwrap returns the codec's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// ownError reports whether err is one of this package's errors, whose text
// quotes no payload (ErrUnsupportedType, from Raw).
func ownError(err error) bool { return errors.Is(err, ErrUnsupportedType) }

// EncodeError reports a value that a codec could not encode.
type EncodeError struct {
	// Codec is the codec's [Codec.Name].
	Codec string
	// Source is the Go type of the value.
	Source string
	// Err is the codec's own error.
	Err error
}

func (e *EncodeError) Error() string {
	return "tether/stream: encode " + e.Source + " with " + e.Codec + ": " + e.Err.Error()
}

// Unwrap returns the codec's error.
func (e *EncodeError) Unwrap() error { return e.Err }

// RouteError reports an envelope the [Router] could not route: no route for
// its type ([ErrUnknownType]) or a closed router ([ErrClosed]). Its text
// quotes at most [MaxExcerpt] bytes of the type, however long the type the
// peer sent.
type RouteError struct {
	// Type is the envelope's message type, whole.
	Type string
	// Err is ErrUnknownType, ErrClosed or ErrCut.
	Err error
	// Missed is, for ErrCut, how many registrations did not get the
	// envelope; 0 otherwise.
	Missed int
}

func (e *RouteError) Error() string {
	msg := "tether/stream: route message type " + quoteCut(e.Type) + ": " + e.Err.Error()
	if e.Missed > 0 {
		msg += " (" + strconv.Itoa(e.Missed) + " registrations missed it)"
	}
	return msg
}

// Unwrap returns Err.
func (e *RouteError) Unwrap() error { return e.Err }

func typeName(v any) string {
	if v == nil {
		return ""
	}
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.String()
}

// quoteCut returns s quoted as strconv.Quote does, with at most MaxExcerpt
// bytes between the quotes (escapes count with their length). A longer s
// is cut on a character boundary, and "..." follows the closing quote.
func quoteCut(s string) string {
	cut := min(len(s), MaxExcerpt)
	for {
		cut = errtext.CharStart(s, cut)
		q := strconv.Quote(s[:cut])
		if quoted := len(q) - 2; quoted > MaxExcerpt {
			// Escapes: keep the share of s that fits at this rate, and
			// less each time (at most MaxExcerpt rounds of MaxExcerpt
			// bytes).
			cut = min(cut*MaxExcerpt/quoted, cut-1)
			continue
		}
		if cut < len(s) {
			q += "..."
		}
		return q
	}
}
