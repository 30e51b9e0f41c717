package tether_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// secrets are planted in URLs; none may appear in an error or a log line.
var secrets = []string{"s3cret-pass", "tok-123", "at-456", "k-789", "sig-000"}

func secretURL(hostport string) string {
	return "ws://alice:s3cret-pass@" + hostport +
		"/feed?token=tok-123&access_token=at-456&key=k-789&signature=sig-000&room=visible"
}

func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range secrets {
		assert.NotContains(t, s, sec, "%s leaks a credential", what)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestCredentialsAreRedactedFromErrorsAndLogs(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{
		"refused connection": func(t *testing.T) string { return secretURL(closedPort(t)) },
		"401": func(t *testing.T) string {
			return strings.Replace(secretURL("HOST"), "HOST", strings.TrimPrefix(statusServer(t, 401, nil, "no"), "ws://"), 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			var logs syncBuffer
			c, err := tether.New[Reading](url(t), tether.WithoutReconnect(), tether.WithAutoConnect(false),
				tether.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			err = c.Connect(ctx)
			require.Error(t, err)
			require.NoError(t, c.Close(ctx))
			assertNoSecrets(t, "the Connect error", err.Error())
			assertNoSecrets(t, "the trace", c.TraceMermaid())
			for _, tr := range c.Trace() {
				if tr.Cause != nil {
					assertNoSecrets(t, "a transition cause", tr.Cause.Error())
				}
			}
			assertNoSecrets(t, "the log", logs.String())
			assert.Contains(t, logs.String(), "dial_failed", "the failure was logged")
		})
	}
}

func TestBadStaticURLFailsInNewWithoutLeaking(t *testing.T) {
	_, err := tether.New[Reading]("ws://alice:s3cret-pass@/feed?token=tok-123")
	var oe *tether.OptionError
	require.ErrorAs(t, err, &oe)
	require.ErrorIs(t, err, transport.ErrBadTarget)
	assertNoSecrets(t, "the option error", err.Error())
}

// TestHandshakeValuesThatWouldWriteHeadersAreRefused: a subprotocol or
// header value holding CRLF would end its header line and write headers
// of its own (gobwas writes the subprotocol offer unchecked). Static ones
// fail New; computed ones fail the attempt before anything is dialed, and
// the default policy gives up. No error quotes the value.
func TestHandshakeValuesThatWouldWriteHeadersAreRefused(t *testing.T) {
	const evil = "\r\nX-Evil: tok-123"
	for name, opt := range map[string]tether.Option{
		"WithSubprotocols": tether.WithSubprotocols("v1", "v2"+evil),
		"WithHeader":       tether.WithHeader(http.Header{"Authorization": {"Bearer at-456" + evil}}),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tether.New[Reading]("ws://127.0.0.1:1/feed", opt)
			var oe *tether.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, name, oe.Option)
			require.ErrorIs(t, err, transport.ErrBadTarget)
			assertNoSecrets(t, "the option error", err.Error())
		})
	}
	headers := func(context.Context) (http.Header, error) {
		return http.Header{"Authorization": {"Bearer at-456" + evil}}, nil
	}
	for name, opt := range map[string]tether.Option{
		"WithSubprotocolsFunc": tether.WithSubprotocolsFunc(func(context.Context) ([]string, error) {
			return []string{"v1" + evil}, nil
		}),
		"WithHeaderFunc":  tether.WithHeaderFunc(headers),
		"WithCredentials": tether.WithCredentials(headers),
	} {
		t.Run(name, func(t *testing.T) {
			// Nothing listens there: a dial would fail with a refused
			// connection, not a bad target.
			c, err := tether.New[Reading]("ws://"+closedPort(t)+"/feed", opt, tether.WithAutoConnect(false))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			err = c.Connect(ctx)
			require.ErrorIs(t, err, transport.ErrBadTarget)
			assert.Equal(t, fsm.Closed, c.State(), "the default policy gives up on a bad target")
			require.NoError(t, c.Close(ctx))
			assertNoSecrets(t, "the Connect error", err.Error())
		})
	}
}

func TestMessageSizeLimitIsOnByDefault(t *testing.T) {
	// A frame header declaring 17 MiB, above the 16 MiB default: refused
	// before a byte of it is read.
	h := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: websocket.DefaultMaxMessageSize + 1<<20}
	var b writerBuf
	require.NoError(t, ws.WriteHeader(&b, h))
	srv := newRawServer(t, func(w io.Writer) { _, _ = w.Write(b) })
	c, err := tether.New[Reading](srv.url, tether.WithoutReconnect(), tether.WithAutoConnect(false))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	_ = c.Connect(ctx)
	waitState(t, c, fsm.Closed)
	require.NoError(t, c.Close(ctx)) // the trace is complete once Close returns
	var cause error
	for _, tr := range c.Trace() {
		if tr.Event == fsm.EventDropped {
			cause = tr.Cause
		}
	}
	require.ErrorIs(t, cause, transport.ErrMessageTooLarge)
	code, ok := transport.CloseCode(cause)
	require.True(t, ok)
	assert.Equal(t, transport.StatusMessageTooBig, code)
}

func TestServerTextIsBounded(t *testing.T) {
	huge := strings.Repeat("<script>alert(1)</script>", 40000) // 1 MB of hostile body
	url := statusServer(t, 401, nil, huge)
	var logs syncBuffer
	c, err := tether.New[Reading](url, tether.WithoutReconnect(), tether.WithAutoConnect(false),
		tether.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	err = c.Connect(ctx)
	require.NoError(t, c.Close(ctx))
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
	assert.LessOrEqual(t, len(he.Body), transport.BodyExcerptLimit, "the body is kept as a bounded excerpt")
	assert.Less(t, len(err.Error()), 2048, "the error text is bounded")
	assert.Contains(t, logs.String(), "dial_failed")
	assert.Less(t, len(logs.String()), 16<<10, "the log is bounded")
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}

// TestNewRefusesAPortNoDialCanUse: a port out of range, or zero, fails New
// with ErrBadTarget and says which, instead of failing every dial later
// (the CLI exited 1 after dialing, not 2 as for a malformed URL: an outside
// review); a URL that does not parse says why, without the secret.
func TestNewRefusesAPortNoDialCanUse(t *testing.T) {
	// A password whose '/', '?' or '#' is not escaped makes its start the
	// port: it must not be quoted as one (the first version did).
	for _, raw := range []string{"ws://127.0.0.1:99999/?token=tok-123", "ws://127.0.0.1:0/feed", "ws://[::1]:65536/",
		"ws://alice:99999/s3cret-pass@host/", "ws://alice:123456789?s3cret-pass@host/", "ws://alice:70000#s3cret-pass@host/"} {
		_, err := tether.New[Reading](raw)
		require.ErrorIs(t, err, transport.ErrBadTarget, raw)
		assertNoSecrets(t, "New's error", err.Error())
		if strings.Contains(raw, "alice") {
			for _, digits := range []string{"99999", "123456789", "70000"} {
				assert.NotContains(t, err.Error(), digits, "what parsed as the port is a password's start")
			}
		}
	}
	for _, raw := range []string{"ws://127.0.0.1:65535/feed", "wss://feed.example/live"} {
		c, err := tether.New[Reading](raw, tether.WithAutoConnect(false))
		require.NoError(t, err, raw)
		require.NoError(t, c.Close(context.Background()))
	}
	_, err := tether.New[Reading]("ws://127.0.0.1:9001/%zz?token=tok-123")
	require.ErrorIs(t, err, transport.ErrBadTarget)
	assert.Contains(t, err.Error(), "invalid %-escape", "says why")
	assertNoSecrets(t, "New's error", err.Error())
}
