package stream

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
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

// ConfigError reports an option value that [Hub.Subscribe],
// [Hub.Observable] or [NewHub] refused. It matches [ErrInvalidConfig] with
// errors.Is. A refused subscription is returned already closed, with the
// ConfigError as its [Subscription.Err]; a refused Observable emits it as
// its only item.
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

// MaxExcerpt is the most bytes of a payload a [DecodeError] keeps.
const MaxExcerpt = 128

// DecodeError reports a payload that could not be decoded: a malformed
// envelope, or an envelope whose data does not fit the type registered for
// its message type. The connection that carried it is not at fault and
// stays open; the Client delivers the error on its error stream.
//
// Error() names the codec, the message type and the payload size but never
// prints the payload, which may hold credentials; read Payload for a
// bounded excerpt.
type DecodeError struct {
	// Codec is the codec's [Codec.Name], for example "json".
	Codec string
	// Type is the envelope's message type when it is known, else "".
	Type string
	// Target is the Go type that was being decoded into, for example
	// "main.Metrics".
	Target string
	// Payload is a copy of at most [MaxExcerpt] bytes from the start of the
	// payload.
	Payload []byte
	// Size is the length of the whole payload.
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
		b.WriteString(strconv.Quote(e.Type))
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
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the codec's error.
func (e *DecodeError) Unwrap() error { return e.Err }

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
// its type ([ErrUnknownType]) or a closed router ([ErrClosed]).
type RouteError struct {
	// Type is the envelope's message type.
	Type string
	// Err is ErrUnknownType or ErrClosed.
	Err error
}

func (e *RouteError) Error() string {
	return "tether/stream: route message type " + strconv.Quote(e.Type) + ": " + e.Err.Error()
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
