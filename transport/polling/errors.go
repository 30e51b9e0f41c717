package polling

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/tether-go/tether/transport"
)

// Sentinel errors. Match them with [errors.Is].
var (
	// ErrInvalidConfig is matched by every [*ConfigError].
	ErrInvalidConfig = errors.New("tether/polling: invalid configuration")
	// ErrBadURL is matched by every [*URLError].
	ErrBadURL = errors.New("tether/polling: bad URL")
	// ErrSendNotConfigured is returned by Write when the transport was made
	// without [WithSendPath]. It wraps [transport.ErrUnsupported], so
	// callers that only know the transport package can match that.
	ErrSendNotConfigured = fmt.Errorf("tether/polling: sends are not configured (see WithSendPath): %w", transport.ErrUnsupported)
	// ErrPollFailed is matched by every [*PollError].
	ErrPollFailed = errors.New("tether/polling: polling failed")
	// ErrRedirect is matched by the error of an answer that redirects
	// (a 3xx status other than 304): the transport never follows a
	// redirect, so credentials never go to a URL the caller did not name.
	// The error is a [*transport.HandshakeError] (Dial, a poll) or a
	// [*SendError] (Write) carrying the status and the headers, Location
	// redacted.
	ErrRedirect = errors.New("tether/polling: redirect not followed")
	// ErrSendFailed is matched by every [*SendError].
	ErrSendFailed = errors.New("tether/polling: send refused")
	// ErrSendInterrupted means the Conn ended (Close among the ways) while
	// a Write's POST was under way: the server may have read the message.
	// It never matches transport.ErrClosed, which a Write returns only when
	// nothing of the message was sent, so a client reports the message as
	// possibly lost instead of sending it again.
	ErrSendInterrupted = errors.New("tether/polling: the connection ended during the send; the server may have the message")
)

// ConfigError reports an option that [New] refused. It matches
// [ErrInvalidConfig].
type ConfigError struct {
	// Option names the option, for example "WithInterval".
	Option string
	// Value is the refused value.
	Value any
	// Problem says what is wrong with it.
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("tether/polling: invalid %s (%v): %s", e.Option, e.Value, e.Problem)
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// URLError reports a target URL that cannot be polled. URL is redacted with
// [transport.RedactURL]. It matches [ErrBadURL], and, when the URL itself is
// at fault (no URLRewrite failed), [transport.ErrBadTarget], which the
// default reconnect policy does not retry.
type URLError struct {
	URL    string
	Reason string
	// Err is the error of a [URLRewrite], if that is what failed.
	Err error
}

func (e *URLError) Error() string {
	s := "tether/polling: bad URL " + strconv.Quote(e.URL) + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is [ErrBadURL], or [transport.ErrBadTarget] for a
// URL that cannot be polled as written.
func (e *URLError) Is(target error) bool {
	return target == ErrBadURL || (target == transport.ErrBadTarget && e.Err == nil)
}

func (e *URLError) Unwrap() error { return e.Err }

// PollError reports why a Conn stopped polling: Failures polls failed in a
// row, the last one with Err. Err is a [*transport.HandshakeError] when the
// server answered with an HTTP error status (so the reconnect policy sees
// the status and its Retry-After), a [*transport.TimeoutError] when the
// request ran out of time, or a network error. A PollError reaches the
// client inside the [*transport.CloseError] that ends the Conn. It matches
// [ErrPollFailed].
type PollError struct {
	Failures int
	Err      error
}

func (e *PollError) Error() string {
	return fmt.Sprintf("tether/polling: %d poll(s) failed in a row: %v", e.Failures, e.Err)
}

// Is reports whether target is [ErrPollFailed].
func (e *PollError) Is(target error) bool { return target == ErrPollFailed }

func (e *PollError) Unwrap() error { return e.Err }

// SendError reports a POST that the server answered with a status other
// than 2xx, a redirect included (it is not followed). The Conn stays up. It
// matches [ErrSendFailed], and what Err matches.
type SendError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Header holds the answer's headers, Location and Content-Location
	// redacted with [transport.RedactURL]; nil when the answer's head was
	// past the bounds (see [MaxHeaderBytes]).
	Header http.Header
	// Body is an excerpt of the answer's body, at most
	// [transport.BodyExcerptLimit] bytes of valid UTF-8, as the server
	// wrote it.
	Body string
	// Err, when set, says more about the answer: it redirected, and Err
	// matches [ErrRedirect]; or its head was past a bound, Header and Body
	// are empty, and Err matches [transport.ErrBadHandshake].
	Err error
}

func (e *SendError) Error() string {
	s := fmt.Sprintf("tether/polling: send refused: HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is [ErrSendFailed].
func (e *SendError) Is(target error) bool { return target == ErrSendFailed }

func (e *SendError) Unwrap() error { return e.Err }

// maxQuoted is the most bytes of text from the server that the text of an
// error of this package holds: a header value, or the text of an error
// that may quote the server's answer (net/http's for a malformed status
// line, encoding/json's for a body). Longer text is cut on a character
// boundary and ends with "...".
const maxQuoted = 128

// cutText returns s when it holds at most maxQuoted bytes; otherwise its
// first maxQuoted bytes at most, cut on a character boundary, followed by
// "...". The result does not share s's memory.
func cutText(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	n := maxQuoted
	for i := n; i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			n = i
			break
		}
	}
	return s[:n] + "..."
}

// cutError is an error whose text may quote the server, cut by cutText. It
// wraps the error, so errors.Is and errors.As find what it holds, and
// reports its Timeout, which *url.Error asks of what it wraps.
type cutError struct{ err error }

func (e *cutError) Error() string { return cutText(e.err.Error()) }

func (e *cutError) Unwrap() error { return e.err }

func (e *cutError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// boundText returns err, wrapped in a cutError when its text is longer
// than maxQuoted bytes.
func boundText(err error) error {
	if err == nil || len(err.Error()) <= maxQuoted {
		return err
	}
	return &cutError{err: err}
}
