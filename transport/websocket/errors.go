package websocket

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tether-go/tether/transport"
)

// Sentinel errors of this package. Match them with [errors.Is].
var (
	// ErrBadURL means the target URL cannot be dialled: it does not parse,
	// its scheme is not ws, wss, http or https, or it has no host. Errors
	// matching it are [*URLError] values.
	ErrBadURL = errors.New("tether/websocket: bad URL")
	// ErrProxy means the proxy could not be reached or refused the CONNECT
	// tunnel. When the proxy answered with an HTTP status, the error is also
	// a [*transport.HandshakeError] carrying it.
	ErrProxy = errors.New("tether/websocket: proxy failed")
	// ErrInvalidOption is matched by every [*OptionError].
	ErrInvalidOption = errors.New("tether/websocket: invalid option")
	// ErrInflate means a compressed message (permessage-deflate) did not
	// inflate: its deflate data is corrupt. The connection ends with
	// 1007, like Node's ws, and the error is in its *transport.CloseError.
	ErrInflate = errors.New("tether/websocket: compressed message does not inflate")
	// ErrHandshakeCut means the server closed the connection during the
	// handshake, before the end of its 101 answer or during TLS: a server
	// restarting does this, and a retry is right. Errors matching it also
	// match [io.ErrUnexpectedEOF].
	ErrHandshakeCut = errors.New("tether/websocket: server closed the connection during the handshake")
	// ErrWantsTLS means a ws:// (or http://) URL reached a server that
	// speaks TLS: it answered the upgrade request with a TLS record, or
	// refused it with 400 and a body that names HTTPS, as Go's and
	// nginx's HTTPS servers do. Dial wss:// (or https://) instead. It is
	// in a [*transport.HandshakeError]'s chain; the answer without a 400
	// status also matches [transport.ErrBadHandshake], so the default
	// reconnect policy gives up on either instead of retrying.
	ErrWantsTLS = errors.New("tether/websocket: the server speaks TLS: use the wss scheme (or https), not ws")
)

// URLError reports a target URL that cannot be dialled. URL is redacted
// with [transport.RedactURL]: it never holds credentials or token
// parameters. It matches [ErrBadURL] and [transport.ErrBadTarget], so the
// default reconnect policy gives up on it instead of retrying.
type URLError struct {
	URL    string
	Reason string
}

func (e *URLError) Error() string {
	return "tether/websocket: bad URL " + strconv.Quote(e.URL) + ": " + e.Reason
}

// Is reports whether target is [ErrBadURL] or [transport.ErrBadTarget].
func (e *URLError) Is(target error) bool {
	return target == ErrBadURL || target == transport.ErrBadTarget
}

// OptionError reports an option that [New] cannot accept. It matches
// [ErrInvalidOption].
type OptionError struct {
	// Option is the name of the option constructor, such as "WithDialTimeout".
	Option string
	// Reason says what is wrong with the value.
	Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("tether/websocket: %s: %s", e.Option, e.Reason)
}

// Is reports whether target is [ErrInvalidOption].
func (e *OptionError) Is(target error) bool { return target == ErrInvalidOption }
