package transport_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

func TestCloseCodeFindsWrappedCloseError(t *testing.T) {
	inner := &transport.CloseError{Code: transport.StatusMessageTooBig, Err: transport.ErrMessageTooLarge}
	err := fmt.Errorf("read: %w", inner)
	code, ok := transport.CloseCode(err)
	require.True(t, ok)
	assert.Equal(t, transport.StatusMessageTooBig, code)
	assert.ErrorIs(t, err, transport.ErrMessageTooLarge)

	_, ok = transport.CloseCode(errors.New("plain"))
	assert.False(t, ok)
	_, ok = transport.CloseCode(nil)
	assert.False(t, ok)
}

func TestHandshakeErrorRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := fmt.Errorf("dial: %w", &transport.HandshakeError{StatusCode: 429, Header: http.Header{"Retry-After": {"7"}}})
	assert.Equal(t, 429, transport.StatusFromError(err))
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
	d, ok := he.RetryAfter(now)
	require.True(t, ok)
	assert.Equal(t, 7*time.Second, d)

	date := now.Add(90 * time.Second).Format(http.TimeFormat)
	d, ok = transport.ParseRetryAfter(date, now)
	require.True(t, ok)
	assert.Equal(t, 90*time.Second, d)
	d, ok = transport.ParseRetryAfter(now.Add(-time.Hour).Format(http.TimeFormat), now)
	require.True(t, ok)
	assert.Zero(t, d, "a date in the past means now")
	for _, bad := range []string{"", "soon", "-3", "1.5"} {
		_, ok = transport.ParseRetryAfter(bad, now)
		assert.False(t, ok, bad)
	}
	assert.Zero(t, transport.StatusFromError(errors.New("x")))
	_, ok = (&transport.HandshakeError{}).RetryAfter(now)
	assert.False(t, ok)
}

func TestTimeoutErrorMatchesErrTimeout(t *testing.T) {
	err := fmt.Errorf("dial: %w", &transport.TimeoutError{Phase: "handshake", After: time.Second})
	assert.ErrorIs(t, err, transport.ErrTimeout)
	var te interface{ Timeout() bool }
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Timeout())
}

func TestStatusCode(t *testing.T) {
	assert.Equal(t, "1009 (message too big)", transport.StatusMessageTooBig.String())
	assert.Equal(t, "4001", transport.StatusCode(4001).String())
	for code, want := range map[transport.StatusCode]bool{
		1000: true, 1003: true, 1004: false, 1005: false, 1006: false, 1007: true, 1014: true, 1015: false,
		1016: false, 2999: false, 3000: true, 4999: true, 5000: false, 0: false,
	} {
		assert.Equal(t, want, code.Sendable(), "code %d", code)
	}
}

func TestMessageType(t *testing.T) {
	assert.Equal(t, "text", transport.Text.String())
	assert.Equal(t, "binary", transport.Binary.String())
	assert.Equal(t, "ping", transport.Ping.String())
	assert.Equal(t, "pong", transport.Pong.String())
	assert.Equal(t, "MessageType(7)", transport.MessageType(7).String())
	assert.True(t, transport.Text.IsData())
	assert.False(t, transport.Pong.IsData())
}

// borrowConn returns its one buffer on every Read, as a zero-copy transport does.
type borrowConn struct {
	transport.Conn
	buf []byte
}

func (c *borrowConn) Read() (transport.Message, error) {
	c.buf[0]++
	return transport.Message{Type: transport.Binary, Payload: c.buf}, nil
}

func TestReadOwnedCopies(t *testing.T) {
	c := &borrowConn{buf: []byte{0, 1}}
	owned, err := transport.ReadOwned(c)
	require.NoError(t, err)
	_, _ = c.Read() // reuses the buffer
	assert.Equal(t, []byte{1, 1}, owned.Payload, "the owned copy survives the next Read")
}

// TestHandshakeErrorTextNeverQuotesTheServer: the text of a
// HandshakeError holds the status and the cause, never the headers or
// the body, which may echo the request's token (their documentation no
// longer calls the body safe to log).
func TestHandshakeErrorTextNeverQuotesTheServer(t *testing.T) {
	he := &transport.HandshakeError{
		StatusCode: http.StatusFound,
		Header:     http.Header{"Location": {"/login?next=/feed?access_token=s3cret"}},
		Body:       `<a href="/login?next=/feed?access_token=s3cret">Found</a>.`,
	}
	err := fmt.Errorf("dial: %w", he)
	assert.NotContains(t, err.Error(), "s3cret")
	assert.Contains(t, err.Error(), "302")
}

// TestHandshakeErrorSaysFailedAfterASwitch: a server that answered 101 did
// not refuse: its answer broke the protocol, and the text says so (it
// said "handshake refused: HTTP 101 Switching Protocols", an outside
// review found it misleading).
func TestHandshakeErrorSaysFailedAfterASwitch(t *testing.T) {
	bad := &transport.HandshakeError{StatusCode: http.StatusSwitchingProtocols, Err: transport.ErrBadHandshake}
	assert.Equal(t, "tether/transport: handshake failed: HTTP 101 Switching Protocols: "+transport.ErrBadHandshake.Error(), bad.Error())
	refused := &transport.HandshakeError{StatusCode: http.StatusServiceUnavailable}
	assert.Equal(t, "tether/transport: handshake refused: HTTP 503 Service Unavailable", refused.Error())
}
