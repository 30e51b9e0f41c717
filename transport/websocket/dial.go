package websocket

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/gobwas/ws"

	"github.com/tether-go/tether/internal/reqheader"
	"github.com/tether-go/tether/transport"
)

// Transport dials WebSocket connections. It is safe for concurrent use:
// any number of goroutines may call Dial at once.
type Transport struct {
	opts options
}

var _ transport.Transport = (*Transport)(nil)

// New returns a Transport configured by opts. It returns an
// [*OptionError] when an option is invalid.
func New(opts ...Option) (*Transport, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt == nil {
			return nil, &OptionError{Option: "Option", Reason: "nil option"}
		}
		if err := opt.apply(&o); err != nil {
			return nil, err
		}
	}
	if err := o.resolve(); err != nil {
		return nil, err
	}
	return &Transport{opts: o}, nil
}

// Name returns "websocket". Safe for concurrent use.
func (t *Transport) Name() string { return "websocket" }

// Dial connects to target.URL (ws, wss, or http and https taken as ws and
// wss), through the proxy when one is chosen, and completes the WebSocket
// handshake under the dial timeout. The server's answer is read under
// bounds ([MaxHandshakeLine], [MaxHandshakeHeaders], [MaxHandshakeBytes]):
// past one, Dial fails at once with an error matching
// [transport.ErrBadHandshake]. So does a 101 answer that breaks the
// protocol; a certificate that fails verification gives one matching
// [transport.ErrCertificate], a server that closes the connection during
// the handshake one matching [io.ErrUnexpectedEOF]. See
// [transport.Transport.Dial] for the contract and the package
// documentation, "Errors of Dial", for every error it returns.
//
// Safe for concurrent use.
func (t *Transport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	u, user, err := parseTarget(target.URL)
	if err != nil {
		return nil, err
	}
	redacted := transport.RedactURL(target.URL)
	if err := target.Check(); err != nil {
		return nil, fmt.Errorf("tether/websocket: dial %s: %w", redacted, err)
	}

	dctx, cancel := context.WithTimeout(ctx, t.opts.dialTimeout)
	defer cancel()

	st := &dialState{plain: u.Scheme == "ws"}
	header, host := requestHeader(target.Header, user)
	d := ws.Dialer{
		ReadBufferSize:  t.opts.readBufSize,
		WriteBufferSize: t.opts.writeBufSize,
		Protocols:       target.Subprotocols,
		Host:            host,
		NetDial:         t.netDial(u, st),
		TLSConfig:       t.opts.tlsConfig,
		OnStatusError:   st.onStatusError,
		WrapConn:        st.wrap,
	}
	if len(header) > 0 {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	if t.opts.compression != nil {
		d.Extensions = append(d.Extensions, t.opts.compression.offer().Option())
	}

	nc, br, hs, err := d.Dial(dctx, u.String())
	if err != nil {
		return nil, t.dialError(ctx, dctx, redacted, target.Subprotocols, st, err)
	}
	if ac, ok := nc.(*answerConn); ok {
		nc = ac.Conn // the answer is read: the connection is read directly
	}
	if len(target.Subprotocols) > 0 && hs.Protocol == "" {
		nc.Close()
		if br != nil {
			ws.PutReader(br)
		}
		// The offer is not quoted: a subprotocol may carry a credential.
		return nil, fmt.Errorf("tether/websocket: dial %s: %w (%d offered, none selected)",
			redacted, transport.ErrSubprotocol, len(target.Subprotocols))
	}
	fl, err := t.negotiated(hs)
	if err != nil {
		nc.Close()
		if br != nil {
			ws.PutReader(br)
		}
		return nil, fmt.Errorf("tether/websocket: dial %s: %w", redacted, &transport.HandshakeError{StatusCode: http.StatusSwitchingProtocols, Err: err})
	}
	c := newConn(nc, br, &t.opts, hs.Protocol)
	c.fl = fl
	c.w.cc = st.cut
	return c, nil
}

// netDial returns the dial function handed to gobwas: it picks the proxy for
// u, then dials directly or tunnels through the proxy, and records in st
// that the connect phase is over. The connection it dials (to the target or
// to the proxy) is wrapped in a cutConn, under TLS and the tunnel, and
// recorded in st.
func (t *Transport) netDial(u *url.URL, st *dialState) func(context.Context, string, string) (net.Conn, error) {
	base := t.opts.netDial
	if base == nil {
		var d net.Dialer
		base = d.DialContext
	}
	base = dialCut(base, &st.cut)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var proxyURL *url.URL
		if t.opts.proxy != nil {
			req := &http.Request{Method: http.MethodGet, URL: httpURL(u), Host: u.Host, Header: http.Header{}}
			p, err := t.opts.proxy(req)
			if err != nil {
				// The error of a proxy function may quote the proxy URL with
				// its credentials: it is not repeated here.
				return nil, fmt.Errorf("%w: choosing the proxy failed", ErrProxy)
			}
			proxyURL = p
		}
		var (
			c   net.Conn
			err error
		)
		if proxyURL == nil {
			c, err = base(ctx, network, addr)
		} else {
			c, err = dialProxy(ctx, base, proxyURL, addr, t.opts.tlsConfig)
		}
		if err == nil {
			st.connected.Store(true)
		}
		return c, err
	}
}

// requestHeader returns the extra handshake headers: the target's
// (reqheader.Build), without the ones the handshake itself owns and the
// body's framing (it has none), plus basic credentials from the URL's
// userinfo when no Authorization header is set (an empty one sends
// neither). host is the Host header the target asked for, or "".
func requestHeader(h http.Header, user *url.Userinfo) (out http.Header, host string) {
	out, host, anonymous := reqheader.Build(h, func(k string) bool {
		switch k {
		case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version",
			"Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
			// The handshake has no body: a length or a transfer coding
			// would make a proxy read one, and take what follows for it.
			"Content-Length", "Transfer-Encoding":
			return true
		}
		return false
	})
	if _, set := out["Authorization"]; user != nil && !anonymous && !set {
		out.Set("Authorization", "Basic "+basicAuth(user))
	}
	return out, host
}

func basicAuth(user *url.Userinfo) string {
	pass, _ := user.Password()
	return base64.StdEncoding.EncodeToString([]byte(user.Username() + ":" + pass))
}

// dialError maps a failed gobwas Dial onto the transport's typed errors.
// offered is the list of subprotocols the client offered.
func (t *Transport) dialError(ctx, dctx context.Context, redacted string, offered []string, st *dialState, err error) error {
	wrap := func(e error) error { return fmt.Errorf("tether/websocket: dial %s: %w", redacted, e) }
	if ctx.Err() != nil {
		return wrap(ctx.Err())
	}
	if st.status != 0 || st.answerErr() != nil {
		return wrap(st.handshakeError())
	}
	var he *transport.HandshakeError
	if errors.As(err, &he) {
		// The proxy refused the tunnel.
		return wrap(err)
	}
	if errors.Is(dctx.Err(), context.DeadlineExceeded) {
		phase := "dial"
		if st.connected.Load() {
			phase = "handshake"
		}
		return wrap(&transport.TimeoutError{Phase: phase, After: t.opts.dialTimeout, Err: err})
	}
	if transport.IsCertificateError(err) {
		// The crypto/tls or crypto/x509 error stays in the chain, for
		// errors.As.
		return wrap(fmt.Errorf("%w: %w", transport.ErrCertificate, err))
	}
	if errors.Is(err, ErrProxy) {
		return wrap(err)
	}
	if e := st.unreadAnswer(); e != nil {
		return wrap(e)
	}
	if bad := badAnswer(err, offered, t.opts.compression != nil); bad != nil {
		// The server switched (101) and broke the protocol: "handshake
		// failed", not refused.
		return wrap(&transport.HandshakeError{StatusCode: http.StatusSwitchingProtocols, Err: bad})
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// A server restarting does this: the error is worth a retry.
		return wrap(fmt.Errorf("%w: %w", ErrHandshakeCut, io.ErrUnexpectedEOF))
	}
	if isHandshakeFailure(err) {
		return wrap(&transport.HandshakeError{Err: err})
	}
	return wrap(err)
}

// badAnswer returns the error for a 101 answer that gobwas rejected for
// one of its headers, matching transport.ErrBadHandshake, or nil. The text
// is this package's, naming the header: gobwas's for a wrong
// Sec-WebSocket-Extensions names Sec-WebSocket-Protocol.
func badAnswer(err error, offered []string, deflate bool) error {
	var what string
	switch {
	case errors.Is(err, ws.ErrHandshakeBadSecAccept):
		what = "Sec-WebSocket-Accept header missing or not derived from the key sent"
	case errors.Is(err, ws.ErrHandshakeBadUpgrade):
		what = `Upgrade header missing or not "websocket"`
	case errors.Is(err, ws.ErrHandshakeBadConnection):
		what = `Connection header missing or not "Upgrade"`
	case errors.Is(err, ws.ErrHandshakeBadExtensions):
		what = "Sec-WebSocket-Extensions header selects an extension the client did not offer (it offers none)"
		if deflate {
			what = "Sec-WebSocket-Extensions header selects an extension the client did not offer (it offers permessage-deflate only)"
		}
	case errors.Is(err, ws.ErrHandshakeBadSubProtocol):
		list := "it offers none"
		if len(offered) > 0 {
			list = fmt.Sprintf("%d offered", len(offered)) // not quoted: one may be a credential
		}
		return fmt.Errorf("%w: Sec-WebSocket-Protocol header selects a subprotocol the client did not offer (%s): %w",
			transport.ErrBadHandshake, list, transport.ErrSubprotocol)
	default:
		return nil
	}
	return fmt.Errorf("%w: %s", transport.ErrBadHandshake, what)
}

// isHandshakeFailure reports whether gobwas rejected the server's answer as
// not a WebSocket upgrade.
func isHandshakeFailure(err error) bool {
	for _, target := range []error{
		ws.ErrHandshakeBadProtocol,
		ws.ErrHandshakeBadStatus,
		ws.ErrMalformedResponse,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var se ws.StatusError
	return errors.As(err, &se)
}
