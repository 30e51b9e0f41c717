package websocket

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

func TestDialTimeoutWhenHandshakeNeverAnswers(t *testing.T) {
	s := newRawServer(t, nil)
	tr := newTransport(t, WithDialTimeout(200*time.Millisecond))
	err := dialErr(t, tr, transport.Target{URL: s.url})
	require.ErrorIs(t, err, transport.ErrTimeout)
	var te *transport.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "handshake", te.Phase)
	assert.Equal(t, 200*time.Millisecond, te.After)
	// The client hung up: the server's side sees the end.
	sc := <-s.conns
	_ = sc.SetReadDeadline(time.Now().Add(wait))
	_, err = io.Copy(io.Discard, sc)
	assert.NoError(t, err, "server reads to EOF")
}

func TestDialTimeoutWhileConnecting(t *testing.T) {
	// A dial function that blocks until its context ends stands in for a
	// black-holed SYN.
	block := func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	tr := newTransport(t, WithDialTimeout(100*time.Millisecond), WithNetDial(block), WithProxy(nil))
	err := dialErr(t, tr, transport.Target{URL: "ws://feed.example/"})
	require.ErrorIs(t, err, transport.ErrTimeout)
	var te *transport.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "dial", te.Phase)
	assert.True(t, te.Timeout())
}

func TestDialContextCancelledDuringHandshake(t *testing.T) {
	s := newRawServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		c, err := newTransport(t).Dial(ctx, transport.Target{URL: s.url})
		if c != nil {
			_ = c.Close(transport.StatusNormalClosure, "")
		}
		done <- err
	}()
	sc := <-s.conns // the handshake request is on its way
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(wait):
		require.FailNow(t, "Dial did not return after cancel")
	}
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, transport.ErrTimeout))
	// Nothing is left open: the server sees EOF. goleak in TestMain checks
	// that no goroutine is left behind.
	_ = sc.SetReadDeadline(time.Now().Add(wait))
	_, err = io.Copy(io.Discard, sc)
	assert.NoError(t, err)
}

func TestDialContextDeadlineIsNotATransportTimeout(t *testing.T) {
	s := newRawServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := newTransport(t).Dial(ctx, transport.Target{URL: s.url})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	err = dialErr(t, newTransport(t), transport.Target{URL: "ws://bob:hunter2@" + addr + "/?access_token=tok123&room=7"})
	var oe *net.OpError
	assert.ErrorAs(t, err, &oe)
	msg := err.Error()
	assert.NotContains(t, msg, "hunter2")
	assert.NotContains(t, msg, "tok123")
	assert.Contains(t, msg, "room=7")
}

func TestBadURLs(t *testing.T) {
	tr := newTransport(t)
	for _, raw := range []string{
		"",
		"feed.example/x",
		"ftp://user:pw-secret@feed.example/?token=tok-secret",
		"ws://",
		"ws:///path",
		"ws://:80/",
		"wss://feed.example:99999/",
		"wss://feed.example:abc/",
		"ws://user:pw-secret@[::1/?key=tok-secret",
		"ws:opaque-secret",
	} {
		t.Run(raw, func(t *testing.T) {
			_, err := tr.Dial(context.Background(), transport.Target{URL: raw})
			require.ErrorIs(t, err, ErrBadURL)
			var ue *URLError
			require.ErrorAs(t, err, &ue)
			assert.NotContains(t, err.Error(), "pw-secret")
			assert.NotContains(t, err.Error(), "tok-secret")
		})
	}
}

func TestParseTarget(t *testing.T) {
	u, user, err := parseTarget("HTTPS://a:b@feed.example:8443/x?y=1#frag")
	require.NoError(t, err)
	assert.Equal(t, "wss://feed.example:8443/x?y=1", u.String())
	require.NotNil(t, user)
	assert.Equal(t, "a", user.Username())

	u, _, err = parseTarget("ws://feed.example")
	require.NoError(t, err)
	assert.Equal(t, "ws://feed.example/", u.String())
	assert.Equal(t, "feed.example:80", hostPort(u))

	u, _, err = parseTarget("wss://[::1]")
	require.NoError(t, err)
	assert.Equal(t, "[::1]:443", hostPort(u))
}

func TestOptionsValidation(t *testing.T) {
	for _, opt := range []Option{
		WithDialTimeout(0),
		WithDialTimeout(-time.Second),
		WithCloseTimeout(0),
		WithReadTimeout(-1),
		WithMaxMessageSize(0),
		WithMaxFrameSize(-1),
		WithReadBufferSize(MinBufferSize - 1),
		WithWriteBufferSize(0),
		nil,
	} {
		_, err := New(opt)
		require.ErrorIs(t, err, ErrInvalidOption)
		var oe *OptionError
		require.ErrorAs(t, err, &oe)
		assert.NotEmpty(t, oe.Option)
	}
	_, err := New(WithMaxMessageSize(100), WithMaxFrameSize(200))
	require.ErrorIs(t, err, ErrInvalidOption)
}

func TestDefaults(t *testing.T) {
	tr := newTransport(t)
	assert.Equal(t, "websocket", tr.Name())
	o := tr.opts
	assert.Equal(t, DefaultDialTimeout, o.dialTimeout)
	assert.Equal(t, DefaultCloseTimeout, o.closeTimeout)
	assert.Zero(t, o.readTimeout)
	assert.Equal(t, int64(DefaultMaxMessageSize), o.maxMessageSize)
	assert.Equal(t, int64(DefaultMaxMessageSize), o.maxFrameSize)
	assert.Nil(t, o.tlsConfig, "nil means verification with the system roots")
	assert.NotNil(t, o.proxy)

	small := newTransport(t, WithMaxMessageSize(1000))
	assert.Equal(t, int64(1000), small.opts.maxFrameSize, "frame limit follows the message limit")
}

func TestURLErrorTextAndMatches(t *testing.T) {
	err := &URLError{URL: "ws://x", Reason: "missing host"}
	assert.Equal(t, `tether/websocket: bad URL "ws://x": missing host`, err.Error())
	assert.ErrorIs(t, err, ErrBadURL)
	assert.ErrorIs(t, err, transport.ErrBadTarget)
}
