package websocket

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// connectProxy is a tiny HTTP CONNECT proxy. It tunnels every CONNECT to
// upstream (whatever the request names, so tests need no DNS), or refuses
// with refuse when it is non-zero. requests records what it was asked.
type connectProxy struct {
	ln       net.Listener
	url      *url.URL
	upstream string
	refuse   int
	requests chan *http.Request

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newConnectProxy(t *testing.T, upstream string, refuse int) *connectProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &connectProxy{
		ln:       ln,
		url:      &url.URL{Scheme: "http", User: url.UserPassword("proxyuser", "proxy-pw"), Host: ln.Addr().String()},
		upstream: upstream,
		refuse:   refuse,
		requests: make(chan *http.Request, 16),
	}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *connectProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
}

func (p *connectProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(c)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			br := bufio.NewReader(c)
			req, err := http.ReadRequest(br)
			if err != nil {
				c.Close()
				return
			}
			p.requests <- req
			if p.refuse != 0 || req.Method != http.MethodConnect {
				_, _ = io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\n"+
					"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 4\r\n\r\nnope")
				c.Close()
				return
			}
			up, err := net.Dial("tcp", p.upstream)
			if err != nil {
				c.Close()
				return
			}
			p.track(up)
			_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				_, _ = io.Copy(up, br)
				up.Close()
			}()
			_, _ = io.Copy(c, up)
			c.Close()
		}()
	}
}

func (p *connectProxy) proxyFunc() func(*http.Request) (*url.URL, error) {
	return func(*http.Request) (*url.URL, error) { return p.url, nil }
}

func TestProxyConnect(t *testing.T) {
	s := newServer(t)
	px := newConnectProxy(t, s.ln.Addr().String(), 0)
	tr := newTransport(t, WithProxy(px.proxyFunc()))
	c := dial(t, tr, transport.Target{URL: "ws://feed.invalid/x"})
	p := s.next()
	go echo(p)

	req := <-px.requests
	assert.Equal(t, http.MethodConnect, req.Method)
	assert.Equal(t, "feed.invalid:80", req.Host)
	user, pass, ok := (&http.Request{Header: http.Header{"Authorization": req.Header["Proxy-Authorization"]}}).BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "proxyuser", user)
	assert.Equal(t, "proxy-pw", pass)
	assert.Equal(t, "feed.invalid", p.host, "the Host header names the target, not the proxy")

	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("through the tunnel")))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "through the tunnel", string(m.Payload))
}

func TestProxyConnectWithTLSTarget(t *testing.T) {
	target, cert := newTLSServer(t)
	u, err := url.Parse(target)
	require.NoError(t, err)
	px := newConnectProxy(t, u.Host, 0)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	tr := newTransport(t, WithProxy(px.proxyFunc()), WithTLSConfig(&tls.Config{RootCAs: roots}))
	c := dial(t, tr, transport.Target{URL: target})
	assert.Equal(t, u.Host, (<-px.requests).Host)
	require.NoError(t, c.Write(context.Background(), transport.Binary, []byte{1, 2, 3}))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, m.Payload)
}

func TestProxyRefuses(t *testing.T) {
	px := newConnectProxy(t, "", http.StatusProxyAuthRequired)
	tr := newTransport(t, WithProxy(px.proxyFunc()))
	err := dialErr(t, tr, transport.Target{URL: "ws://feed.invalid/?token=tok-secret"})
	require.ErrorIs(t, err, ErrProxy)
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusProxyAuthRequired, he.StatusCode)
	assert.Equal(t, `Basic realm="test"`, he.Header.Get("Proxy-Authenticate"))
	assert.Equal(t, "nope", he.Body)
	assert.NotContains(t, err.Error(), "proxy-pw")
	assert.NotContains(t, err.Error(), "tok-secret")
}

func TestProxyUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	tr := newTransport(t, WithProxy(func(*http.Request) (*url.URL, error) {
		return url.Parse("http://u:proxy-pw@" + addr)
	}))
	err = dialErr(t, tr, transport.Target{URL: "ws://feed.invalid/"})
	require.ErrorIs(t, err, ErrProxy)
	assert.NotContains(t, err.Error(), "proxy-pw")
}

func TestProxyUnsupportedScheme(t *testing.T) {
	tr := newTransport(t, WithProxy(func(*http.Request) (*url.URL, error) {
		return url.Parse("socks5://127.0.0.1:1080")
	}))
	err := dialErr(t, tr, transport.Target{URL: "ws://feed.invalid/"})
	require.ErrorIs(t, err, ErrProxy)
}

func TestProxyFuncSeesHTTPSchemes(t *testing.T) {
	// The proxy function gets the http(s) form of the target, as
	// http.ProxyFromEnvironment expects (HTTPS_PROXY for wss). A nil answer
	// (like NO_PROXY) means a direct connection.
	s := newServer(t)
	seen := make(chan string, 2)
	tr := newTransport(t, WithProxy(func(r *http.Request) (*url.URL, error) {
		seen <- r.URL.String()
		return nil, nil
	}))
	dial(t, tr, transport.Target{URL: s.url + "?q=1"})
	go echo(s.next())
	assert.Equal(t, "http"+s.url[len("ws"):]+"?q=1", <-seen)
}

func TestDefaultProxyIsFromEnvironment(t *testing.T) {
	o := defaultOptions()
	assert.Equal(t, reflect.ValueOf(http.ProxyFromEnvironment).Pointer(), reflect.ValueOf(o.proxy).Pointer())
	// And WithProxy(nil) dials directly.
	s := newServer(t)
	dial(t, newTransport(t, WithProxy(nil)), transport.Target{URL: s.url})
	go echo(s.next())
}

func TestProxyNoProxyRules(t *testing.T) {
	// NO_PROXY semantics through a proxy function that follows them: the
	// excluded host is dialled directly, the other goes through the proxy.
	s := newServer(t)
	px := newConnectProxy(t, s.ln.Addr().String(), 0)
	noProxy := func(r *http.Request) (*url.URL, error) {
		if r.URL.Hostname() == "127.0.0.1" {
			return nil, nil
		}
		return px.url, nil
	}
	tr := newTransport(t, WithProxy(noProxy))
	dial(t, tr, transport.Target{URL: s.url})
	go echo(s.next())
	assert.Len(t, px.requests, 0, "excluded host dialled directly")
	dial(t, tr, transport.Target{URL: "ws://feed.invalid/"})
	go echo(s.next())
	assert.Equal(t, "feed.invalid:80", (<-px.requests).Host)
}
