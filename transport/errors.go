package transport

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Sentinel errors. Match them with [errors.Is].
var (
	// ErrClosed is returned by operations on a Conn that has been closed
	// by this side.
	ErrClosed = errors.New("tether/transport: connection closed")
	// ErrMessageTooLarge means a message exceeded the configured limit. The
	// Conn closes with 1009; the *CloseError it reports wraps this error.
	ErrMessageTooLarge = errors.New("tether/transport: message too large")
	// ErrInvalidUTF8 means a text message was not valid UTF-8. The Conn
	// closes with 1007; the *CloseError it reports wraps this error.
	ErrInvalidUTF8 = errors.New("tether/transport: invalid UTF-8 in text message")
	// ErrTimeout means a dial, handshake or close handshake ran out of time.
	// Errors wrapping it also report Timeout() == true.
	ErrTimeout = errors.New("tether/transport: timeout")
	// ErrSubprotocol means the server did not select one of the offered
	// subprotocols.
	ErrSubprotocol = errors.New("tether/transport: server selected no offered subprotocol")
	// ErrUnsupported is returned by a method the transport cannot provide,
	// such as Ping on HTTP polling.
	ErrUnsupported = errors.New("tether/transport: not supported by this transport")
	// ErrBadTarget means the target cannot be dialed as given: a URL that
	// does not parse, has a scheme the transport does not speak, no host,
	// or a port out of 1-65535 (tether.New refuses that one for any
	// transport); a subprotocol or header that cannot go into a handshake request
	// ([Target.Check]). Retrying the same target gets the same answer, so the default
	// reconnect policy gives up on it.
	ErrBadTarget = errors.New("tether/transport: bad target")
	// ErrBadHandshake means the server's answer to the upgrade request
	// broke the protocol: a wrong Sec-WebSocket-Accept, a missing or wrong
	// Upgrade or Connection header, an extension or subprotocol the client
	// did not offer, or an answer past the transport's size bounds (the
	// WebSocket transport's error then also carries the HTTP status, so a
	// 429 with 64 KiB of headers stops too). Retrying meets the same server, so the default
	// reconnect policy gives up on it.
	ErrBadHandshake = errors.New("tether/transport: bad handshake answer")
	// ErrCertificate means the server's TLS certificate failed
	// verification (unknown authority, wrong host name, expired). The
	// error wrapping it keeps the crypto/tls or crypto/x509 error, for
	// errors.As. Retrying meets the same certificate, so the default
	// reconnect policy gives up on it.
	ErrCertificate = errors.New("tether/transport: server certificate not trusted")
	// ErrProtocol means the peer broke the protocol (for example a reserved
	// opcode or a masked server frame). The Conn closes with 1002.
	ErrProtocol = errors.New("tether/transport: protocol violation")
)

// CloseError reports a close handshake: the code and reason the peer sent
// (Remote true), or the ones this side sent (Remote false). Err, when set, is
// the cause that made this side close, such as [ErrMessageTooLarge].
type CloseError struct {
	Code   StatusCode
	Reason string
	Remote bool
	Err    error
}

func (e *CloseError) Error() string {
	var s string
	switch {
	case e.Code == StatusAbnormalClosure:
		s = "tether/transport: connection lost without a close frame"
	case e.Remote:
		s = fmt.Sprintf("tether/transport: remote close %s", e.Code)
	default:
		s = fmt.Sprintf("tether/transport: local close %s", e.Code)
	}
	if e.Reason != "" {
		s += ": " + strconv.Quote(e.Reason)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *CloseError) Unwrap() error { return e.Err }

// CloseCode returns the close code carried by err, or false when err holds no
// [*CloseError].
func CloseCode(err error) (StatusCode, bool) {
	if ce, ok := errors.AsType[*CloseError](err); ok {
		return ce.Code, true
	}
	return 0, false
}

// HandshakeError reports a server that answered the upgrade request with
// something other than a switch to the protocol, typically an HTTP error
// status.
//
// Its text (Error) holds the status and the cause, never Header or Body:
// those are the server's words, and a server may quote in them what the
// request carried, credentials included (a redirect, or an error page that
// echoes the URL with its token). Redact them before logging them.
type HandshakeError struct {
	// StatusCode is the HTTP status of the answer, or 0 when there was none.
	StatusCode int
	// Header holds the answer's headers as the server sent them, within
	// the transport's bounds. The polling transport redacts the URLs of
	// Location and Content-Location with [RedactURL] (which also redacts a
	// URL or a path nested in another parameter's value,
	// "?next=/feed?token=..."); the WebSocket transport keeps them as
	// they are.
	Header http.Header
	// Body is a short excerpt of the answer's body (at most BodyExcerptLimit
	// bytes, with invalid UTF-8 replaced), as the server wrote it: not
	// redacted, since it is free text. A page that redirects or refuses may
	// quote the request's URL, token included; redact the excerpt, or leave
	// it out, before logging it.
	Body string
	// Err is the underlying cause when one exists.
	Err error
}

// BodyExcerptLimit is the most bytes of a refused handshake's body kept in
// [HandshakeError.Body].
const BodyExcerptLimit = 512

func (e *HandshakeError) Error() string {
	s := "tether/transport: handshake refused"
	if e.StatusCode == http.StatusSwitchingProtocols {
		// The server agreed to switch, and its answer broke the protocol.
		s = "tether/transport: handshake failed"
	}
	if e.StatusCode != 0 {
		s += fmt.Sprintf(": HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// RetryAfter parses the Retry-After header (seconds or an HTTP date,
// relative to now) and reports whether one was present and valid.
func (e *HandshakeError) RetryAfter(now time.Time) (time.Duration, bool) {
	if e.Header == nil {
		return 0, false
	}
	return ParseRetryAfter(e.Header.Get("Retry-After"), now)
}

// ParseRetryAfter parses a Retry-After value: delay-seconds or an HTTP date.
// A date in the past gives 0.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// StatusFromError returns the HTTP status of a refused handshake carried by
// err, or 0.
func StatusFromError(err error) int {
	if he, ok := errors.AsType[*HandshakeError](err); ok {
		return he.StatusCode
	}
	return 0
}

// TimeoutError reports a phase that ran out of time: "dial", "handshake" or
// "close". It matches [ErrTimeout] with errors.Is and reports Timeout() true,
// like net.Error.
type TimeoutError struct {
	Phase string
	After time.Duration
	Err   error
}

func (e *TimeoutError) Error() string {
	s := fmt.Sprintf("tether/transport: %s timed out", e.Phase)
	if e.After > 0 {
		s += " after " + e.After.String()
	}
	return s
}

// Timeout reports true, as net.Error does for timeouts.
func (e *TimeoutError) Timeout() bool { return true }

func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

func (e *TimeoutError) Unwrap() error { return e.Err }
