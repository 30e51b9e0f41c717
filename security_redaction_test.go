package tether_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// The secrets of the hostile URLs (issue 13): a user, a password and a
// token value made of the characters that cut a URL into the wrong parts.
// Each starts with a marker nothing else holds.
const (
	hostileUser     = "Us7er"
	hostilePassword = "Pw0/s?s#@;%zz x\x01"
	hostileToken    = "Tk9/a?b#c@d;e%zz f"
)

// assertNoHostileSecret checks that no secret appears in s, as written or
// escaped, nor even its marker.
func assertNoHostileSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range []string{hostileUser, hostilePassword, hostileToken} {
		for _, f := range []string{sec, sec[:3], url.User(sec).String(), url.PathEscape(sec), url.QueryEscape(sec)} {
			assert.NotContains(t, s, f, "%s leaks a credential", what)
		}
	}
}

// hostileRawURL has the secrets written as they are: it does not parse.
func hostileRawURL(hostport string) string {
	return "ws://" + hostileUser + ":" + hostilePassword + "@" + hostport + "/feed?room=1&token=" + hostileToken
}

// hostileEscapedURL is the same URL written correctly: it parses.
func hostileEscapedURL(hostport string) string {
	return "ws://" + url.UserPassword(hostileUser, hostilePassword).String() + "@" + hostport +
		"/feed?room=1&token=" + url.QueryEscape(hostileToken)
}

// TestNewErrorNeverEchoesAHostileURL: a static URL that does not parse
// fails in New, and the error holds none of its secrets.
func TestNewErrorNeverEchoesAHostileURL(t *testing.T) {
	for name, raw := range map[string]string{
		"raw secrets":                   hostileRawURL("feed.example"),
		"slash in the password":         "ws://" + hostileUser + ":Pw0/ss@feed.example/",
		"question mark in the password": "ws://" + hostileUser + ":Pw0?ret@feed.example",
		"no host":                       "ws://" + url.UserPassword(hostileUser, hostilePassword).String() + "@/feed?token=" + url.QueryEscape(hostileToken),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tether.New[Reading](raw)
			require.ErrorIs(t, err, transport.ErrBadTarget)
			var oe *tether.OptionError
			require.ErrorAs(t, err, &oe)
			assertNoHostileSecret(t, "the New error", err.Error())
		})
	}
}

// TestConnectAndGiveUpNeverEchoAHostileURL: a URL that cannot be dialled,
// given as a URL function (so New cannot check it) or as an escaped static
// URL to a closed port. Neither the Connect error, nor the give-up error
// (Err), nor a transition cause, nor TraceMermaid, nor the slog output
// holds a secret.
func TestConnectAndGiveUpNeverEchoAHostileURL(t *testing.T) {
	for name, newClient := range map[string]func(t *testing.T, opts ...tether.Option) (*tether.Client[Reading], error){
		"URL function returning a URL that does not parse": func(_ *testing.T, opts ...tether.Option) (*tether.Client[Reading], error) {
			return tether.New[Reading](func(context.Context) (string, error) { return hostileRawURL("feed.example"), nil }, opts...)
		},
		"URL function returning a slash in the password": func(_ *testing.T, opts ...tether.Option) (*tether.Client[Reading], error) {
			return tether.New[Reading](func(context.Context) (string, error) { return "ws://" + hostileUser + ":Pw0/ss@feed.example/", nil }, opts...)
		},
		"escaped URL to a closed port": func(t *testing.T, opts ...tether.Option) (*tether.Client[Reading], error) {
			return tether.New[Reading](hostileEscapedURL(closedPort(t)), opts...)
		},
	} {
		t.Run(name, func(t *testing.T) {
			var logs syncBuffer
			c, err := newClient(t, tether.WithoutReconnect(), tether.WithAutoConnect(false),
				tether.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			err = c.Connect(ctx)
			require.Error(t, err)
			require.NoError(t, c.Close(ctx)) // the trace is complete once Close returns
			<-c.Done()

			assertNoHostileSecret(t, "the Connect error", err.Error())
			require.Error(t, c.Err(), "the policy gave up")
			assertNoHostileSecret(t, "the give-up error", c.Err().Error())
			for _, tr := range c.Trace() {
				if tr.Cause != nil {
					assertNoHostileSecret(t, "a transition cause", tr.Cause.Error())
				}
			}
			assertNoHostileSecret(t, "the trace", c.TraceMermaid())
			assertNoHostileSecret(t, "the log", logs.String())
			assert.Contains(t, logs.String(), "dial_failed", "the failure was logged")
		})
	}
}

// TestAmbiguousURLNeverLeaksWhenDialled: "ws://user:12/pass@host/"
// parses, with "user:12" as the host and "/pass@host/" as the path.
// Dialling it puts that host, which is the user name and the start of the
// password, in the dial error: a DNS or connect error names the address,
// and RedactURL cannot reach it. The URL must be refused before it is
// dialled, as an '@' after the host (the CLI refuses it): by New for a
// static URL, by the transport for a URL function.
func TestAmbiguousURLNeverLeaksWhenDialled(t *testing.T) {
	const raw = "ws://" + hostileUser + ":12/Pw0@127.0.0.1:1/"
	for name, target := range map[string]func() (*tether.Client[Reading], error){
		"static": func() (*tether.Client[Reading], error) {
			return tether.New[Reading](raw, tether.WithoutReconnect(), tether.WithAutoConnect(false))
		},
		"URL function": func() (*tether.Client[Reading], error) {
			return tether.New[Reading](func(context.Context) (string, error) { return raw, nil },
				tether.WithoutReconnect(), tether.WithAutoConnect(false))
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := target()
			if err != nil {
				require.ErrorIs(t, err, transport.ErrBadTarget)
				assertNoHostileSecret(t, "the New error", err.Error())
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			err = c.Connect(ctx)
			require.Error(t, err)
			require.NoError(t, c.Close(ctx))
			<-c.Done()
			assert.ErrorIs(t, err, transport.ErrBadTarget, "refused, not dialled")
			assertNoHostileSecret(t, "the Connect error", err.Error())
			assertNoHostileSecret(t, "the trace", c.TraceMermaid())
		})
	}
}

// TestCausesFromElsewhereNeverEchoTheURL: a custom transport's error that
// quotes the URL it was given, with its credentials, reached the
// transition's String, Trace, Err, Connect's error, OnError, the logger and
// the inspector as it was; only TraceMermaid and TraceDOT redacted it (an
// outside review). The cause is now redacted where it enters the
// lifecycle, and still unwraps to the transport's error.
func TestCausesFromElsewhereNeverEchoTheURL(t *testing.T) {
	raw := "wss://" + url.UserPassword(hostileUser, "pw").String() + "@feed.example/live?room=1&token=" + url.QueryEscape(hostileToken)
	var logs bytes.Buffer // written by the logger until Done, read after
	var heard []string
	c, err := tether.New[Reading](raw, tether.WithTransport(refusing{}), tether.WithoutReconnect(),
		tether.WithAutoConnect(false), tether.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		tether.OnError(func(err error) { heard = append(heard, err.Error()) }))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	connErr := c.Connect(ctx)
	require.Error(t, connErr)
	assertNoHostileSecret(t, "Connect's error", connErr.Error())
	assertNoHostileSecret(t, "Err", fmt.Sprint(c.Err()))
	require.NoError(t, c.Close(ctx))
	<-c.Done()
	for _, tr := range c.Trace() {
		assertNoHostileSecret(t, "a transition", tr.String())
		if tr.Event == fsm.EventDialFailed {
			assert.Contains(t, errors.Unwrap(tr.Cause).Error(), "refused", "the transport's error is kept")
		}
	}
	for _, h := range heard {
		assertNoHostileSecret(t, "OnError", h)
	}
	require.Contains(t, logs.String(), "dial_failed", "the logger wrote the transition")
	assertNoHostileSecret(t, "the logger", logs.String())
}

// quotingTransport wraps a transport whose Conn's Read and Close errors
// quote the URL the Conn was dialled with, credentials included, as a
// careless custom transport's might.
type quotingTransport struct{ transport.Transport }

func (t quotingTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	conn, err := t.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return &quotingConn{Conn: conn, url: target.URL}, nil
}

type quotingConn struct {
	transport.Conn
	url string
}

func (c *quotingConn) Read() (transport.Message, error) {
	m, err := c.Conn.Read()
	if err != nil {
		return m, fmt.Errorf("read from %s: %w", c.url, err)
	}
	return m, nil
}

func (c *quotingConn) Close(code transport.StatusCode, reason string) error {
	if err := c.Conn.Close(code, reason); err != nil {
		return fmt.Errorf("close of %s: %w", c.url, err)
	}
	return fmt.Errorf("close of %s: no answer", c.url)
}

// TestCausesFromAConnAndAStageNeverEchoTheURL: the other places a cause
// from elsewhere enters the lifecycle (a Conn's Read error ends the
// connection, its Close error ends the handshake, a stage's error fails
// the stage) redact it as a Dial error is (an audit: only Dial errors
// were tested).
func TestCausesFromAConnAndAStageNeverEchoTheURL(t *testing.T) {
	const secret = "Tk9SECRETvalue"
	for _, end := range []string{"read", "close", "stage"} {
		t.Run(end, func(t *testing.T) {
			e := newEnv(t)
			var heard []string
			opts := []tether.Option{tether.WithTransport(quotingTransport{e.srv.Transport()}), tether.WithClock(e.clk),
				tether.WithoutHeartbeat(), tether.WithoutReconnect(), tether.WithAutoConnect(false),
				tether.OnError(func(err error) { heard = append(heard, err.Error()) })}
			if end == "stage" {
				opts = append(opts, tether.WithStage(fsm.DefineStage("Authenticating"), func(context.Context, *tether.Stage) error {
					return fmt.Errorf("auth against memory://feed?token=%s refused", secret)
				}))
			}
			c, err := tether.New[string]("memory://feed?token="+secret, opts...)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			connErr := c.Connect(ctx)
			switch end {
			case "read":
				require.NoError(t, connErr)
				e.accept().Drop()
				waitState(t, c, fsm.Closed)
			case "close":
				require.NoError(t, connErr)
				e.accept()
			case "stage":
				require.Error(t, connErr)
				assert.NotContains(t, connErr.Error(), secret)
			}
			require.NoError(t, c.Close(ctx))
			<-c.Done()
			var quoted bool
			for _, tr := range c.Trace() {
				assert.NotContains(t, tr.String(), secret)
				if tr.Cause != nil && strings.Contains(tr.Cause.Error(), "token=REDACTED") {
					quoted = true
				}
			}
			assert.True(t, quoted, "a cause quoted the URL, redacted: %v", c.Trace())
			for _, h := range heard {
				assert.NotContains(t, h, secret)
			}
			assert.NotContains(t, c.TraceMermaid(), secret)
		})
	}
}

// writeQuotingConn is a Conn whose Write refuses every message with an
// error that quotes the URL, as a careless custom transport's might.
type writeQuotingTransport struct{ transport.Transport }

func (t writeQuotingTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	conn, err := t.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return &writeQuotingConn{Conn: conn, url: target.URL}, nil
}

type writeQuotingConn struct {
	transport.Conn
	url string
}

func (c *writeQuotingConn) Write(context.Context, transport.MessageType, []byte) error {
	return fmt.Errorf("write refused by %s", c.url)
}

// TestWriteErrorsNeverEchoTheURL: a Conn's Write error that quotes the URL
// reaches the program redacted, whether Send wrote the message itself (its
// error) or the send buffer did after a connection opened (the OnDrop
// report). An outside review: Send returned "message possibly lost: ...
// write refused by bad://feed.example/live?token=SECRET123".
func TestWriteErrorsNeverEchoTheURL(t *testing.T) {
	const secret = "Tk9SECRETvalue"
	e := newEnv(t)
	var (
		mu      sync.Mutex
		reasons []error
	)
	c, err := tether.New[string]("memory://feed?token="+secret, tether.WithTransport(writeQuotingTransport{e.srv.Transport()}),
		tether.WithClock(e.clk), tether.WithoutHeartbeat(), tether.WithoutReconnect(), tether.WithAutoConnect(false),
		tether.OnDrop(func(d tether.Drop) { mu.Lock(); reasons = append(reasons, d.Reason); mu.Unlock() }))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	e.accept()
	sendErr := c.Send(ctx, "direct") // written by Send itself
	require.Error(t, sendErr)
	assert.ErrorIs(t, sendErr, tether.ErrPossiblyLost)
	assert.NotContains(t, sendErr.Error(), secret)
	assert.Contains(t, sendErr.Error(), "token=REDACTED", "the cause is kept, redacted")

	require.NoError(t, c.Disconnect(ctx))
	require.NoError(t, c.Send(ctx, "queued")) // waits in the buffer for the next connection
	require.NoError(t, c.Connect(ctx))
	e.accept()
	require.NoError(t, c.Flush(ctx))
	require.NoError(t, c.Close(ctx))
	<-c.Done()
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, reasons, "the queued message's failed write is reported")
	for _, r := range reasons {
		assert.NotContains(t, r.Error(), secret)
	}
}
