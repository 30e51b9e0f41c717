package polling_test

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/polling"
)

// elsewhere is a server a redirect points to; it records whether anything
// reached it.
func elsewhere(t *testing.T) (*httptest.Server, <-chan http.Header) {
	t.Helper()
	got := make(chan http.Header, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		_, _ = w.Write([]byte("[]"))
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func credentials() http.Header {
	return http.Header{"Authorization": {"Bearer s3cret"}, "X-Api-Key": {"s3cret"}}
}

// requireRedirectRefusal checks the error of a redirect that was not
// followed: a refusal with the 3xx status, its Location redacted.
func requireRedirectRefusal(t *testing.T, err error, status int) {
	t.Helper()
	require.ErrorIs(t, err, polling.ErrRedirect)
	he, ok := errors.AsType[*transport.HandshakeError](err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, status, he.StatusCode)
	assert.Contains(t, he.Header.Get("Location"), "/landing?token="+transport.Redacted)
	assert.NotContains(t, he.Header.Get("Location"), "s3cret")
	assert.Empty(t, he.Body, "a redirect's body, which repeats the Location, is not kept")
	assert.NotContains(t, err.Error(), "s3cret")
	assert.Contains(t, err.Error(), "/landing (query not shown)", "the error says where it was sent")
}

// TestRedirectIsNotFollowed: a 3xx answer to Dial is a refusal, as in the
// WebSocket transport, with the transport's own client and with one passed
// to WithHTTPClient (which is not modified). Redirects used to be followed
// silently: custom credential headers (X-Api-Key) went to another host, and
// an https URL redirected to http sent every credential in clear text.
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Run("own client, to another host", func(t *testing.T) {
		to, got := elsewhere(t)
		from := httptest.NewServer(http.RedirectHandler(to.URL+"/landing?token=s3cret", http.StatusFound))
		t.Cleanup(from.Close)
		tr, err := polling.New()
		require.NoError(t, err)

		_, err = tr.Dial(testCtx(t), transport.Target{URL: from.URL + "/feed", Header: credentials()})
		requireRedirectRefusal(t, err, http.StatusFound)
		assert.Empty(t, got, "nothing reached the other host")
	})
	t.Run("your client, https to http", func(t *testing.T) {
		to, got := elsewhere(t)
		from := httptest.NewUnstartedServer(http.RedirectHandler(to.URL+"/landing?token=s3cret", http.StatusMovedPermanently))
		from.Config.ErrorLog = log.New(io.Discard, "", 0)
		from.StartTLS()
		t.Cleanup(from.Close)
		client := from.Client()
		tr, err := polling.New(polling.WithHTTPClient(client))
		require.NoError(t, err)

		_, err = tr.Dial(testCtx(t), transport.Target{URL: from.URL + "/feed", Header: credentials()})
		requireRedirectRefusal(t, err, http.StatusMovedPermanently)
		assert.Empty(t, got, "no credential went out in clear text")
		assert.Nil(t, client.CheckRedirect, "the client passed in is not modified")
	})
}

// TestPollRedirectIsAFailedPoll: a poll answered with a redirect is a
// failed poll; the redirect is not followed.
func TestPollRedirectIsAFailedPoll(t *testing.T) {
	to, got := elsewhere(t)
	ts := newTestServer(t)
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc, polling.WithMaxFailures(1)), ts,
		transport.Target{URL: ts.URL + "/feed", Header: credentials()})
	ts.next(t)
	ts.script(refuse(http.StatusTemporaryRedirect, "Location", to.URL+"/landing?token=s3cret"))
	fc.Step(waitTimer(t, fc))

	err := readErr(t, c)
	requireClose(t, err, transport.StatusAbnormalClosure, true)
	require.ErrorIs(t, err, polling.ErrPollFailed)
	requireRedirectRefusal(t, err, http.StatusTemporaryRedirect)
	assert.Empty(t, got)
}

// TestSendRedirectIsARefusal: a POST answered with a redirect is a refused
// send; a 307 would otherwise have sent the message again, elsewhere.
func TestSendRedirectIsARefusal(t *testing.T) {
	to, got := elsewhere(t)
	ts := newTestServer(t)
	c := dial(t, newTransport(t, ts, tethertest.NewFakeClock(time.Time{}), polling.WithSendPath("/send")), ts,
		transport.Target{URL: ts.URL + "/feed", Header: credentials()})
	ts.next(t)
	ts.script(refuse(http.StatusTemporaryRedirect, "Location", to.URL+"/landing?token=s3cret"))

	err := c.Write(testCtx(t), transport.Text, []byte(`"m"`))
	require.ErrorIs(t, err, polling.ErrSendFailed)
	require.ErrorIs(t, err, polling.ErrRedirect)
	se, ok := errors.AsType[*polling.SendError](err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, http.StatusTemporaryRedirect, se.StatusCode)
	assert.NotContains(t, se.Header.Get("Location"), "s3cret")
	assert.NotContains(t, err.Error(), "s3cret")
	assert.Empty(t, got)
	assert.Nil(t, c.Err())
}

// TestRedirectRefusalTextNeverQuotesTheRequest: a server that redirects
// often echoes the request's URL, token included, in the Location's own
// query (net/http's http.Redirect to a login page, say), where
// transport.RedactURL cannot tell it is a credential. The error's text
// names the Location without its query, so it never carries the token.
func TestRedirectRefusalTextNeverQuotesTheRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login?next="+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	tr, err := polling.New()
	require.NoError(t, err)

	_, err = tr.Dial(testCtx(t), transport.Target{URL: srv.URL + "/feed?access_token=s3cret"})
	require.ErrorIs(t, err, polling.ErrRedirect)
	assert.NotContains(t, err.Error(), "s3cret")
	assert.Contains(t, err.Error(), "/login (query not shown)")
	he, ok := errors.AsType[*transport.HandshakeError](err)
	require.True(t, ok, "got %v", err)
	assert.Empty(t, he.Body, "http.Redirect's page quotes the Location: not kept")
}
