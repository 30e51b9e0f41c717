package polling

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tether-go/tether/transport"
)

// Transport polls an HTTP endpoint behind the [transport.Transport] port.
// Make one with [New]. It is safe for concurrent use: any number of
// goroutines may dial at once.
type Transport struct {
	opts options
}

var _ transport.Transport = (*Transport)(nil)

// New returns a Transport configured by opts. A refused option returns a
// [*ConfigError].
func New(opts ...Option) (*Transport, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Transport{opts: o}, nil
}

// Name returns "polling".
//
// Safe from any goroutine.
func (t *Transport) Name() string { return "polling" }

// Dial sends the initial GET to the poll URL made from target (see
// [WithPollPath]) with target.Header, and returns a Conn once the server
// answers 2xx (or 304). The messages in that first answer are the first
// ones Read returns. A long-poll transport does not ask the server to hold
// this first request.
//
// Dial fails with a [*URLError] for a URL it cannot poll, a
// [*transport.HandshakeError] when the server answers with another status
// (or with a body it cannot decode, then wrapping [transport.ErrProtocol],
// [transport.ErrInvalidUTF8] or [transport.ErrMessageTooLarge], or with a
// head past the bounds of [MaxHeaderBytes], then wrapping
// [transport.ErrBadHandshake] and keeping no header), an error
// matching [transport.ErrSubprotocol] when the server selects none of the
// offered subprotocols, a [*transport.TimeoutError] when the request timeout
// runs out, an error matching [transport.ErrCertificate] when the server's
// certificate fails verification (unknown authority, wrong host name,
// expired; errors.As finds the *tls.CertificateVerificationError and the
// crypto/x509 error in it), and an error wrapping ctx's when ctx ends first. Nothing is left
// running after a failed Dial. The HTTP client may keep one connection,
// though: net/http finishes a TCP dial whose request was cancelled and
// pools the connection for reuse, until the client's idle timeout or its
// CloseIdleConnections (a client without keep-alives closes it at once).
//
// Safe for concurrent use.
func (t *Transport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tether/polling: dial: %w", err)
	}
	ep, err := t.opts.resolveURLs(target.URL)
	if err != nil {
		return nil, err
	}
	wrap := func(e error) error {
		return fmt.Errorf("tether/polling: dial %s: %w", transport.RedactURL(ep.poll.String()), e)
	}
	if err := target.Check(); err != nil {
		return nil, wrap(err)
	}
	r := newRequester(&t.opts, target)
	a, err := r.do(ctx, http.MethodGet, ep.poll, nil, nil, t.opts.requestTimeout, "dial")
	if err != nil {
		return nil, wrap(err)
	}
	if !a.ok() {
		return nil, wrap(a.refusal())
	}
	proto, err := t.subprotocol(target.Subprotocols, a.header)
	if err != nil {
		return nil, wrap(err)
	}
	msgs, derr := t.opts.decode(a)
	if derr != nil {
		he := a.refusal()
		he.Err = derr.err
		return nil, wrap(he)
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap(err) // it ended while the answer was read or checked
	}
	return newConn(&t.opts, r, ep, proto, a.header, msgs), nil
}

// subprotocol returns the subprotocol the server selected, checking it was
// offered. The error quotes at most maxQuoted bytes of the server's value.
func (t *Transport) subprotocol(offered []string, h http.Header) (string, error) {
	if t.opts.protoHeader == "" || len(offered) == 0 {
		return "", nil
	}
	sel := strings.TrimSpace(h.Get(t.opts.protoHeader))
	if sel == "" || !slices.Contains(offered, sel) {
		// The offer is not quoted: a subprotocol may carry a credential.
		return "", fmt.Errorf("%w: %d offered, server selected %q in %s",
			transport.ErrSubprotocol, len(offered), cutText(sel), t.opts.protoHeader)
	}
	return sel, nil
}
