package polling_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/polling"
)

func TestName(t *testing.T) {
	tr, err := polling.New()
	require.NoError(t, err)
	var _ transport.Transport = tr
	assert.Equal(t, "polling", tr.Name())
}

func TestDialRefusedIsHandshakeError(t *testing.T) {
	ts := newTestServer(t)
	ts.script(reply{status: http.StatusServiceUnavailable, header: http.Header{"Retry-After": {"2"}}, body: "busy, " + strings.Repeat("x", 2000)})
	tr := newTransport(t, ts, tethertest.NewFakeClock(time.Time{}))

	c, err := tr.Dial(testCtx(t), transport.Target{URL: ts.URL + "/feed?token=secret"})
	require.Nil(t, c)
	he, ok := errors.AsType[*transport.HandshakeError](err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, http.StatusServiceUnavailable, he.StatusCode)
	assert.Equal(t, "2", he.Header.Get("Retry-After"))
	assert.True(t, strings.HasPrefix(he.Body, "busy, xxx"))
	assert.Len(t, he.Body, transport.BodyExcerptLimit)
	assert.Equal(t, http.StatusServiceUnavailable, transport.StatusFromError(err))
	assert.NotContains(t, err.Error(), "secret", "the URL in the error is redacted")
	ra, ok := he.RetryAfter(time.Now())
	assert.True(t, ok)
	assert.Equal(t, 2*time.Second, ra)
}

func TestDialDeliversFirstAnswer(t *testing.T) {
	ts := newTestServer(t)
	ts.script(answer(`[ "a", {"b": 1}, 3 ]`, "Content-Type", "application/json"))
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc), ts)

	assert.Equal(t, text(`"a"`), read(t, c))
	assert.Equal(t, text(`{"b": 1}`), read(t, c))
	assert.Equal(t, text(`3`), read(t, c))
	first := ts.next(t)
	assert.Equal(t, http.MethodGet, first.Method)
	assert.Equal(t, "/feed", first.Path)
	assert.Equal(t, "application/json", first.Header.Get("Accept"))
	assert.Empty(t, first.Header.Get("Prefer"), "short polls ask for no wait")
	assert.Equal(t, polling.DefaultInterval, waitTimer(t, fc), "the first poll comes an interval later")
	assert.Nil(t, c.Err())
}

func TestDialMapsWebSocketURLs(t *testing.T) {
	ts := newTestServer(t)
	fc := tethertest.NewFakeClock(time.Time{})
	tr := newTransport(t, ts, fc, polling.WithPollPath("/feed/poll"))
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/feed?token=t1#frag"
	dial(t, tr, ts, transport.Target{URL: wsURL})
	r := ts.next(t)
	assert.Equal(t, "/feed/poll", r.Path)
	assert.Equal(t, "token=t1", r.RawQuery, "the query (credentials) is kept")
}

func TestDialURLRewrite(t *testing.T) {
	ts := newTestServer(t)
	target, err := url.Parse(ts.URL)
	require.NoError(t, err)
	rewrite := func(u *url.URL) (*url.URL, error) {
		u.Scheme, u.Host = target.Scheme, target.Host // the WebSocket host is not the polling host
		return u, nil
	}
	tr := newTransport(t, ts, tethertest.NewFakeClock(time.Time{}), polling.WithURLRewrite(rewrite), polling.WithPollPath("/poll"))
	dial(t, tr, ts, transport.Target{URL: "wss://ws.example.invalid/feed"})
	assert.Equal(t, "/poll", ts.next(t).Path)
}

func TestDialBadURL(t *testing.T) {
	failing := func(*url.URL) (*url.URL, error) { return nil, errors.New("no mapping") }
	cases := []struct {
		name string
		url  string
		opts []polling.Option
	}{
		{"scheme", "ftp://host/x?token=secret", nil},
		{"no scheme", "host/x", nil},
		{"no host", "http:///x", nil},
		{"malformed", "http://[::1/x?token=secret", nil},
		{"an @ after the host", "http://user:12/pa@host/x", nil},
		{"rewrite fails", "ws://host/x", []polling.Option{polling.WithURLRewrite(failing)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := polling.New(tc.opts...)
			require.NoError(t, err)
			c, err := tr.Dial(testCtx(t), transport.Target{URL: tc.url})
			require.Nil(t, c)
			require.ErrorIs(t, err, polling.ErrBadURL)
			ue, ok := errors.AsType[*polling.URLError](err)
			require.True(t, ok)
			assert.NotContains(t, ue.Error(), "secret")
			// A URL that cannot be polled as written is final (the default
			// reconnect policy stops on ErrBadTarget); a failed rewrite may
			// not be.
			assert.Equal(t, tc.name != "rewrite fails", errors.Is(err, transport.ErrBadTarget))
		})
	}
}

func TestDialUndecodableAnswer(t *testing.T) {
	ts := newTestServer(t)
	ts.script(answer(`{"not": "an array"}`))
	tr := newTransport(t, ts, tethertest.NewFakeClock(time.Time{}))
	_, err := tr.Dial(testCtx(t), transport.Target{URL: ts.URL})
	he, ok := errors.AsType[*transport.HandshakeError](err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, http.StatusOK, he.StatusCode)
	assert.Equal(t, `{"not": "an array"}`, he.Body)
	assert.ErrorIs(t, err, transport.ErrProtocol)
}

func TestDialHeadersOnEveryRequest(t *testing.T) {
	ts := newTestServer(t)
	fc := tethertest.NewFakeClock(time.Time{})
	tr := newTransport(t, ts, fc, polling.WithSendPath("/send"))
	h := http.Header{"Authorization": {"Bearer t0k"}, "X-Client": {"tether"}, "Host": {"feed.example"}}
	c := dial(t, tr, ts, transport.Target{URL: ts.URL, Header: h})

	waitTimer(t, fc)
	fc.Step(polling.DefaultInterval)
	require.NoError(t, c.Write(testCtx(t), transport.Text, []byte(`{"x":1}`)))
	for range 3 { // dial, poll, send
		r := ts.next(t)
		assert.Equal(t, "feed.example", r.Host, r.Method)
		assert.Equal(t, "Bearer t0k", r.Header.Get("Authorization"), r.Method)
		assert.Equal(t, "tether", r.Header.Get("X-Client"), r.Method)
	}
}

// TestHeaderSpellingsAndAnEmptyAuthorization: a header given under two
// spellings goes out with both values (one was lost, whichever the map gave
// last), and an empty Authorization sends no credentials, not even the
// URL's userinfo, which net/http sends as Basic when Authorization is
// empty.
func TestHeaderSpellingsAndAnEmptyAuthorization(t *testing.T) {
	ts := newTestServer(t)
	fc := tethertest.NewFakeClock(time.Time{})
	tr := newTransport(t, ts, fc)
	u := strings.Replace(ts.URL, "http://", "http://alice:s3cret@", 1)
	h := http.Header{"x-client": {"one"}, "X-Client": {"two"}, "Authorization": {""}}
	c := dial(t, tr, ts, transport.Target{URL: u, Header: h})
	waitTimer(t, fc)
	fc.Step(polling.DefaultInterval)
	for range 2 { // dial, poll
		r := ts.next(t)
		assert.ElementsMatch(t, []string{"one", "two"}, r.Header.Values("X-Client"), r.Method)
		assert.Empty(t, r.Header.Values("Authorization"), r.Method)
	}
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestDialSubprotocol(t *testing.T) {
	offer := transport.Target{Subprotocols: []string{"v1", "v2"}}

	t.Run("selected", func(t *testing.T) {
		ts := newTestServer(t)
		ts.script(refuse(http.StatusNoContent, "Sec-WebSocket-Protocol", "v2"))
		tg := offer
		tg.URL = ts.URL
		c := dial(t, newTransport(t, ts, tethertest.NewFakeClock(time.Time{})), ts, tg)
		assert.Equal(t, "v2", c.Subprotocol())
		assert.Equal(t, "v1, v2", ts.next(t).Header.Get("Sec-WebSocket-Protocol"))
	})
	t.Run("none selected", func(t *testing.T) {
		ts := newTestServer(t)
		tg := offer
		tg.URL = ts.URL
		_, err := newTransport(t, ts, tethertest.NewFakeClock(time.Time{})).Dial(testCtx(t), tg)
		require.ErrorIs(t, err, transport.ErrSubprotocol)
	})
	t.Run("not offered", func(t *testing.T) {
		ts := newTestServer(t)
		ts.script(refuse(http.StatusNoContent, "Sec-WebSocket-Protocol", "v3"))
		tg := offer
		tg.URL = ts.URL
		_, err := newTransport(t, ts, tethertest.NewFakeClock(time.Time{})).Dial(testCtx(t), tg)
		require.ErrorIs(t, err, transport.ErrSubprotocol)
	})
	t.Run("the offer is not quoted", func(t *testing.T) {
		// A subprotocol may carry a credential.
		ts := newTestServer(t)
		ts.script(refuse(http.StatusNoContent, "Sec-WebSocket-Protocol", "v3"))
		tg := transport.Target{URL: ts.URL, Subprotocols: []string{"bearer.s3cr3t", "v1"}}
		_, err := newTransport(t, ts, tethertest.NewFakeClock(time.Time{})).Dial(testCtx(t), tg)
		require.ErrorIs(t, err, transport.ErrSubprotocol)
		assert.NotContains(t, err.Error(), "s3cr3t")
	})
	t.Run("a value that would write headers is refused before any request", func(t *testing.T) {
		ts := newTestServer(t)
		tr := newTransport(t, ts, tethertest.NewFakeClock(time.Time{}))
		for _, tg := range []transport.Target{
			{URL: ts.URL, Subprotocols: []string{"v1\r\nX-Evil: 1"}},
			{URL: ts.URL, Header: http.Header{"Authorization": {"Bearer x\nX-Evil: 1"}}},
		} {
			_, err := tr.Dial(testCtx(t), tg)
			require.ErrorIs(t, err, transport.ErrBadTarget)
		}
		ts.noRequest(t)
	})
	t.Run("negotiation off", func(t *testing.T) {
		ts := newTestServer(t)
		tg := offer
		tg.URL = ts.URL
		tr := newTransport(t, ts, tethertest.NewFakeClock(time.Time{}), polling.WithSubprotocolHeader(""))
		c := dial(t, tr, ts, tg)
		assert.Empty(t, c.Subprotocol())
		assert.Empty(t, ts.next(t).Header.Get("Sec-WebSocket-Protocol"))
	})
}

func TestDialHonoursContext(t *testing.T) {
	ts := newTestServer(t)
	release := make(chan struct{})
	ts.setHandler(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	tr := newTransport(t, ts, tethertest.NewFakeClock(time.Time{}))

	ctx, cancel := context.WithCancel(testCtx(t))
	errc := make(chan error, 1)
	go func() {
		_, err := tr.Dial(ctx, transport.Target{URL: ts.URL})
		errc <- err
	}()
	ts.next(t) // the request is in
	cancel()
	require.ErrorIs(t, recv(t, errc), context.Canceled)

	_, err := tr.Dial(ctx, transport.Target{URL: ts.URL})
	require.ErrorIs(t, err, context.Canceled, "an ended ctx fails at once")
	ts.noRequest(t)
}

func TestDialTimeout(t *testing.T) {
	ts := newTestServer(t)
	release := make(chan struct{})
	ts.setHandler(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	tr := newTransport(t, ts, tethertest.NewFakeClock(time.Time{}), polling.WithRequestTimeout(20*time.Millisecond))
	_, err := tr.Dial(testCtx(t), transport.Target{URL: ts.URL})
	require.ErrorIs(t, err, transport.ErrTimeout)
	te, ok := errors.AsType[*transport.TimeoutError](err)
	require.True(t, ok)
	assert.Equal(t, "dial", te.Phase)
}

func TestDialUnreachable(t *testing.T) {
	ts := newTestServer(t)
	u := ts.URL
	ts.Close()
	tr := newTransport(t, ts, tethertest.NewFakeClock(time.Time{}))
	_, err := tr.Dial(testCtx(t), transport.Target{URL: u + "/?token=secret"})
	require.Error(t, err)
	_, isHandshake := errors.AsType[*transport.HandshakeError](err)
	assert.False(t, isHandshake)
	assert.NotContains(t, err.Error(), "secret")
}
