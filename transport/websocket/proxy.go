package websocket

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/tether-go/tether/transport"
)

// aLongTimeAgo is a deadline in the past, used to interrupt blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// dialProxy opens a CONNECT tunnel to addr through the HTTP or HTTPS proxy
// at proxy. The returned connection carries the tunnel; TLS to the target,
// if any, is started over it by the caller. Nothing is left open when it
// fails.
func dialProxy(ctx context.Context, dial NetDialFunc, proxy *url.URL, addr string, tlsConf *tls.Config) (net.Conn, error) {
	redacted := transport.RedactURL(proxy.String())
	switch proxy.Scheme {
	case "http", "https":
	default:
		return nil, fmt.Errorf("%w: unsupported proxy scheme in %s (want http or https)", ErrProxy, redacted)
	}
	c, err := dial(ctx, "tcp", hostPort(proxy))
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %w", ErrProxy, redacted, err)
	}
	// Interrupt the exchange below when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(aLongTimeAgo) })
	tunnel, err := connect(ctx, c, proxy, addr, tlsConf, redacted)
	if !stop() {
		// ctx ended: the deadline may have poisoned the connection.
		if err == nil {
			err = fmt.Errorf("%w: CONNECT via %s: %w", ErrProxy, redacted, ctx.Err())
		}
	} else if err == nil {
		err = c.SetDeadline(time.Time{})
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return tunnel, nil
}

// connect runs the CONNECT exchange on c (after TLS to the proxy for an
// https proxy) and returns the tunnel.
func connect(ctx context.Context, c net.Conn, proxy *url.URL, addr string, tlsConf *tls.Config, redacted string) (net.Conn, error) {
	if proxy.Scheme == "https" {
		cfg := &tls.Config{}
		if tlsConf != nil {
			cfg = tlsConf.Clone()
		}
		cfg.ServerName = proxy.Hostname()
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("%w: TLS with %s: %w", ErrProxy, redacted, err)
		}
		c = tc
	}
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: http.Header{},
	}
	if proxy.User != nil {
		req.Header.Set("Proxy-Authorization", "Basic "+basicAuth(proxy.User))
	}
	if err := req.Write(c); err != nil {
		return nil, fmt.Errorf("%w: CONNECT via %s: %w", ErrProxy, redacted, err)
	}
	// The answer is read under the bounds of a handshake answer.
	ac := &answerConn{Conn: c}
	br := bufio.NewReader(ac)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		if ac.err != nil {
			err = ac.err // the bound broken, whatever net/http made of it
		}
		return nil, fmt.Errorf("%w: CONNECT via %s: %w", ErrProxy, redacted, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &transport.HandshakeError{
			StatusCode: resp.StatusCode,
			Header:     resp.Header,
			Body:       readExcerpt(resp.Body),
			Err:        fmt.Errorf("%w: CONNECT via %s refused", ErrProxy, redacted),
		}
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: c, r: br}, nil
	}
	return c, nil
}

// bufferedConn is a tunnel whose first bytes were read ahead with the
// proxy's answer. Once they are read, it reads the connection directly,
// no longer through the bounds on the answer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader // nil once its bytes are read
}

func (b *bufferedConn) Read(p []byte) (int, error) {
	if b.r != nil {
		if b.r.Buffered() > 0 {
			return b.r.Read(p)
		}
		b.r = nil
	}
	return b.Conn.Read(p)
}
