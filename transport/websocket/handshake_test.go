package websocket

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

func dialErr(t *testing.T, tr *Transport, target transport.Target) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := tr.Dial(ctx, target)
	if c != nil {
		_ = c.Close(transport.StatusNormalClosure, "")
	}
	require.Error(t, err)
	return err
}

func TestSubprotocolSelected(t *testing.T) {
	s := newServer(t, func(u *ws.Upgrader) {
		u.Protocol = func(p []byte) bool { return string(p) == "v2.feed" }
	})
	c := dial(t, newTransport(t), transport.Target{URL: s.url, Subprotocols: []string{"v3.feed", "v2.feed"}})
	p := s.next()
	go echo(p)
	assert.Equal(t, "v2.feed", c.Subprotocol())
	assert.Equal(t, "v2.feed", p.hs.Protocol)
}

func TestSubprotocolNoneSelected(t *testing.T) {
	s := newServer(t)
	err := dialErr(t, newTransport(t), transport.Target{URL: s.url, Subprotocols: []string{"v1"}})
	assert.ErrorIs(t, err, transport.ErrSubprotocol)
}

func TestSubprotocolNotOffered(t *testing.T) {
	s := newRawServer(t, func(_ *http.Request, accept string) []byte {
		return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Protocol: other\r\n\r\n")
	})
	err := dialErr(t, newTransport(t), transport.Target{URL: s.url, Subprotocols: []string{"v1"}})
	assert.ErrorIs(t, err, transport.ErrSubprotocol)
	// Also when none was offered at all.
	err = dialErr(t, newTransport(t), transport.Target{URL: s.url})
	assert.ErrorIs(t, err, transport.ErrSubprotocol)
}

// TestSubprotocolOfferIsNeverQuoted: a subprotocol may carry a credential
// (Kubernetes takes a bearer token as one), so the errors of a refused
// offer count it instead of quoting it.
func TestSubprotocolOfferIsNeverQuoted(t *testing.T) {
	const secret = "c2VjcmV0LXRva2Vu"
	offer := []string{"base64url.bearer.authorization.k8s.io." + secret, "channel.k8s.io"}
	none := newServer(t)
	err := dialErr(t, newTransport(t), transport.Target{URL: none.url, Subprotocols: offer})
	require.ErrorIs(t, err, transport.ErrSubprotocol)
	assert.NotContains(t, err.Error(), secret)
	assert.Contains(t, err.Error(), "2 offered")

	other := newRawServer(t, func(_ *http.Request, accept string) []byte {
		return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Protocol: other\r\n\r\n")
	})
	err = dialErr(t, newTransport(t), transport.Target{URL: other.url, Subprotocols: offer})
	require.ErrorIs(t, err, transport.ErrSubprotocol)
	assert.NotContains(t, err.Error(), secret)
}

// TestDialRefusesATargetThatWouldWriteHeaders: a subprotocol or header
// value holding CRLF used to go into the request as it was, writing a
// header of its own (gobwas writes the offer unchecked). Dial now refuses
// it with ErrBadTarget before connecting.
func TestDialRefusesATargetThatWouldWriteHeaders(t *testing.T) {
	s := newServer(t)
	var dials atomic.Int32
	tr := newTransport(t, WithNetDial(func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}))
	for _, target := range []transport.Target{
		{URL: s.url, Subprotocols: []string{"v1\r\nX-Evil: 1"}},
		{URL: s.url, Subprotocols: []string{"v1", "v 2"}},
		{URL: s.url, Header: http.Header{"Authorization": {"Bearer x\r\nX-Evil: 1"}}},
	} {
		err := dialErr(t, tr, target)
		require.ErrorIs(t, err, transport.ErrBadTarget)
		assert.NotContains(t, err.Error(), "X-Evil")
	}
	assert.Zero(t, dials.Load(), "a refused target was dialed")
}

func TestNoSubprotocolOfferedNoneRequired(t *testing.T) {
	c, p, _ := connectPair(t)
	go echo(p)
	assert.Empty(t, c.Subprotocol())
}

func TestHandshakeRefused(t *testing.T) {
	long := strings.Repeat("é", transport.BodyExcerptLimit) // 2 bytes a rune: longer than the limit
	h := http.NewServeMux()
	h.HandleFunc("/401", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="feed"`)
		http.Error(w, "token expired", http.StatusUnauthorized)
	})
	h.HandleFunc("/429", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(long))
	})
	h.HandleFunc("/200", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>not a websocket</html>"))
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	base := "ws" + strings.TrimPrefix(srv.URL, "http")
	tr := newTransport(t)

	t.Run("401", func(t *testing.T) {
		err := dialErr(t, tr, transport.Target{URL: base + "/401?token=sekrit"})
		var he *transport.HandshakeError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, http.StatusUnauthorized, he.StatusCode)
		assert.Equal(t, `Bearer realm="feed"`, he.Header.Get("WWW-Authenticate"))
		assert.Equal(t, "token expired\n", he.Body)
		assert.Equal(t, http.StatusUnauthorized, transport.StatusFromError(err))
		assert.NotContains(t, err.Error(), "sekrit")
	})
	t.Run("429", func(t *testing.T) {
		err := dialErr(t, tr, transport.Target{URL: base + "/429"})
		var he *transport.HandshakeError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, http.StatusTooManyRequests, he.StatusCode)
		d, ok := he.RetryAfter(time.Now())
		assert.True(t, ok)
		assert.Equal(t, 7*time.Second, d)
		assert.LessOrEqual(t, len(he.Body), transport.BodyExcerptLimit)
		assert.True(t, strings.HasPrefix(long, he.Body), "excerpt is a prefix cut on a rune boundary")
		assert.Greater(t, len(he.Body), transport.BodyExcerptLimit-4)
	})
	t.Run("not a websocket server", func(t *testing.T) {
		err := dialErr(t, tr, transport.Target{URL: base + "/200"})
		var he *transport.HandshakeError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, http.StatusOK, he.StatusCode)
		assert.Equal(t, "<html>not a websocket</html>", he.Body)
	})
}

func TestHandshakeGarbageAnswer(t *testing.T) {
	s := newRawServer(t, func(*http.Request, string) []byte {
		return []byte("SSH-2.0-OpenSSH_9.6\r\n\r\n")
	})
	err := dialErr(t, newTransport(t), transport.Target{URL: s.url})
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Zero(t, he.StatusCode)
	assert.True(t, errors.Is(err, ws.ErrMalformedResponse))
}

func TestHandshakeBadAccept(t *testing.T) {
	s := newRawServer(t, func(*http.Request, string) []byte {
		return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: bm9wZQ==\r\n\r\n")
	})
	err := dialErr(t, newTransport(t), transport.Target{URL: s.url})
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
}

func TestExcerpt(t *testing.T) {
	assert.Equal(t, "ok", excerpt([]byte("ok")))
	assert.Equal(t, "a\uFFFDb", excerpt([]byte("a\xffb")))
	bad := []byte(strings.Repeat("\xff", transport.BodyExcerptLimit))
	got := excerpt(bad)
	assert.LessOrEqual(t, len(got), transport.BodyExcerptLimit)
	assert.True(t, strings.HasPrefix(got, "\uFFFD"))
}

// TestHandshakeKeepsItsOwnHeaders: the package doc promises that
// Target.Header cannot replace the headers the handshake writes itself
// (a second Sec-WebSocket-Key or Upgrade would break it), that a Host
// header replaces the URL's host, and that the other headers go out as
// given.
func TestHandshakeKeepsItsOwnHeaders(t *testing.T) {
	got := make(chan *http.Request, 1)
	s := newRawServer(t, func(r *http.Request, accept string) []byte {
		got <- r
		return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + accept + "\r\n\r\n")
	})
	c := dial(t, newTransport(t), transport.Target{URL: s.url, Header: http.Header{
		"Upgrade":                  {"h2c"},
		"Connection":               {"close"},
		"Sec-Websocket-Key":        {"AAAAAAAAAAAAAAAAAAAAAA=="},
		"Sec-Websocket-Version":    {"8"},
		"Sec-Websocket-Protocol":   {"smuggled"},
		"Sec-Websocket-Extensions": {"permessage-deflate"},
		"Host":                     {"feed.example"},
		"X-Trace":                  {"1", "2"},
	}})
	defer c.Close(transport.StatusNormalClosure, "")
	r := <-got
	assert.Equal(t, []string{"websocket"}, r.Header.Values("Upgrade"))
	assert.Equal(t, []string{"Upgrade"}, r.Header.Values("Connection"))
	assert.Len(t, r.Header.Values("Sec-Websocket-Key"), 1)
	assert.NotEqual(t, "AAAAAAAAAAAAAAAAAAAAAA==", r.Header.Get("Sec-Websocket-Key"))
	assert.Equal(t, []string{"13"}, r.Header.Values("Sec-Websocket-Version"))
	assert.Empty(t, r.Header.Values("Sec-Websocket-Protocol"), "subprotocols come from Target.Subprotocols")
	assert.Empty(t, r.Header.Values("Sec-Websocket-Extensions"), "compression comes from the transport's option")
	assert.Equal(t, "feed.example", r.Host)
	assert.Equal(t, []string{"1", "2"}, r.Header.Values("X-Trace"))
}
