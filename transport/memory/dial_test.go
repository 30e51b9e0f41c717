package memory_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

type dialResult struct {
	conn transport.Conn
	err  error
}

func dialAsync(ctx context.Context, tr transport.Transport, target transport.Target) <-chan dialResult {
	ch := make(chan dialResult, 1)
	go func() {
		c, err := tr.Dial(ctx, target)
		ch <- dialResult{c, err}
	}()
	return ch
}

func TestTransportName(t *testing.T) {
	var tr transport.Transport = newServer(t).Transport()
	require.Equal(t, "memory", tr.Name())
}

func TestDialRecordsEveryTarget(t *testing.T) {
	srv := newServer(t, memory.WithAutoAccept(), memory.WithSubprotocols("v2"))
	tr := srv.Transport()
	ctx := testCtx(t)

	h := http.Header{"Authorization": {"Bearer one"}}
	protos := []string{"v2"}
	c1, err := tr.Dial(ctx, transport.Target{URL: "wss://a/feed?token=1", Header: h, Subprotocols: protos})
	require.NoError(t, err)
	h.Set("Authorization", "Bearer changed") // the record is a copy
	protos[0] = "changed"

	srv.Script(memory.Refuse(http.StatusUnauthorized, nil, ""))
	_, err = tr.Dial(ctx, transport.Target{URL: "wss://a/feed?token=2", Header: http.Header{"Authorization": {"Bearer two"}}})
	require.Error(t, err)

	dials := srv.Dials()
	require.Len(t, dials, 2)
	assert.Equal(t, "wss://a/feed?token=1", dials[0].URL)
	assert.Equal(t, "Bearer one", dials[0].Header.Get("Authorization"))
	assert.Equal(t, []string{"v2"}, dials[0].Subprotocols)
	assert.Equal(t, "wss://a/feed?token=2", dials[1].URL)
	assert.Equal(t, "Bearer two", dials[1].Header.Get("Authorization"))

	dials[0].Header.Set("Authorization", "mutated") // Dials returns copies
	assert.Equal(t, "Bearer one", srv.Dials()[0].Header.Get("Authorization"))

	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	assert.Equal(t, "wss://a/feed?token=1", sc.Target().URL)
	assert.Equal(t, "v2", sc.Subprotocol())
	assert.Equal(t, "v2", c1.Subprotocol())
	require.NoError(t, c1.Close(transport.StatusNormalClosure, ""))
}

func TestDialWaitsForAccept(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	res := dialAsync(ctx, srv.Transport(), transport.Target{URL: "ws://x"})

	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	r := recv(t, res)
	require.NoError(t, r.err)

	require.NoError(t, sc.Send(ctx, transport.Text, []byte("hello")))
	m, err := r.conn.Read()
	require.NoError(t, err)
	assert.Equal(t, "hello", string(m.Payload))
	require.NoError(t, r.conn.Close(transport.StatusNormalClosure, ""))
	<-sc.Done()
}

func TestAcceptHonoursCtx(t *testing.T) {
	srv := newServer(t)
	_, err := srv.Accept(shortCtx(t))
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestDialAbandonedBeforeAccept(t *testing.T) {
	srv := newServer(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	res := dialAsync(ctx, srv.Transport(), transport.Target{URL: "ws://x"})
	_, err := srv.WaitDials(testCtx(t), 1)
	require.NoError(t, err)
	cancel()

	r := recv(t, res)
	require.ErrorIs(t, r.err, context.Canceled)
	require.Nil(t, r.conn)

	// The server still gets the half-made connection, already ended.
	sc, err := srv.Accept(testCtx(t))
	require.NoError(t, err)
	require.True(t, closed(sc.Done()))
	require.ErrorIs(t, sc.Err(), memory.ErrAbandoned)
	require.ErrorIs(t, sc.Send(testCtx(t), transport.Text, nil), memory.ErrAbandoned)
}

func TestDialHangUntilCtxEnds(t *testing.T) {
	for _, auto := range []bool{false, true} {
		t.Run(map[bool]string{false: "manual", true: "auto"}[auto], func(t *testing.T) {
			var opts []memory.Option
			if auto {
				opts = append(opts, memory.WithAutoAccept())
			}
			srv := newServer(t, opts...)
			srv.Script(memory.Hang())
			ctx, cancel := context.WithCancel(testCtx(t))
			res := dialAsync(ctx, srv.Transport(), transport.Target{URL: "ws://hang"})

			sc, err := srv.Accept(testCtx(t)) // accepting does not complete it
			require.NoError(t, err)
			assert.Equal(t, "ws://hang", sc.Target().URL)
			require.False(t, closed(sc.Done()))
			cancel()

			r := recv(t, res)
			require.ErrorIs(t, r.err, context.Canceled)
			recv(t, sc.Done())
			require.ErrorIs(t, sc.Err(), memory.ErrAbandoned)

			// The script is used up: the next dial proceeds.
			go func() { _, _ = srv.Accept(testCtx(t)) }()
			c, err := srv.Transport().Dial(testCtx(t), transport.Target{URL: "ws://next"})
			require.NoError(t, err)
			require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
		})
	}
}

func TestDialHangDeadline(t *testing.T) {
	srv := newServer(t)
	srv.SetDefault(memory.Hang())
	_, err := srv.Transport().Dial(shortCtx(t), transport.Target{URL: "ws://hang"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	sc, err := srv.Accept(testCtx(t))
	require.NoError(t, err)
	recv(t, sc.Done())
	require.ErrorIs(t, sc.Err(), memory.ErrAbandoned)
}

func TestDialWithEndedCtxIsNotRecorded(t *testing.T) {
	srv := newServer(t, memory.WithAutoAccept())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := srv.Transport().Dial(ctx, transport.Target{URL: "ws://x"})
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, srv.Dials())
}

func TestRefuse(t *testing.T) {
	srv := newServer(t, memory.WithAutoAccept())
	tr := srv.Transport()
	ctx := testCtx(t)
	hdr := http.Header{"Retry-After": {"7"}}
	srv.Script(memory.Refuse(http.StatusTooManyRequests, hdr, "slow down"))
	hdr.Set("Retry-After", "99") // the answer keeps its own copy

	_, err := tr.Dial(ctx, transport.Target{URL: "ws://x"})
	he, ok := errors.AsType[*transport.HandshakeError](err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, http.StatusTooManyRequests, he.StatusCode)
	assert.Equal(t, "slow down", he.Body)
	assert.Equal(t, http.StatusTooManyRequests, transport.StatusFromError(err))
	d, ok := he.RetryAfter(time.Now())
	require.True(t, ok)
	assert.Equal(t, 7*time.Second, d)

	c, err := tr.Dial(ctx, transport.Target{URL: "ws://x"})
	require.NoError(t, err, "a scripted answer serves one dial")
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestRefuseBodyExcerpt(t *testing.T) {
	srv := newServer(t)
	body := "\xff" + strings.Repeat("é", transport.BodyExcerptLimit)
	srv.Script(memory.Refuse(http.StatusForbidden, nil, body))
	_, err := srv.Transport().Dial(testCtx(t), transport.Target{URL: "ws://x"})
	he, ok := errors.AsType[*transport.HandshakeError](err)
	require.True(t, ok)
	assert.LessOrEqual(t, len(he.Body), transport.BodyExcerptLimit)
	assert.True(t, strings.HasPrefix(he.Body, "\uFFFDéé"))
	assert.True(t, strings.HasSuffix(he.Body, "é"), "cut on a rune boundary")
}

func TestRefuseN(t *testing.T) {
	srv := newServer(t, memory.WithAutoAccept())
	tr := srv.Transport()
	ctx := testCtx(t)
	srv.Script(memory.Refuse(503, nil, ""), memory.Refuse(503, nil, ""), memory.Unreachable())
	for range 2 {
		_, err := tr.Dial(ctx, transport.Target{URL: "ws://x"})
		require.Equal(t, 503, transport.StatusFromError(err))
	}
	_, err := tr.Dial(ctx, transport.Target{URL: "ws://x"})
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	c, err := tr.Dial(ctx, transport.Target{URL: "ws://x"})
	require.NoError(t, err)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestSetDefault(t *testing.T) {
	srv := newServer(t, memory.WithAutoAccept())
	tr := srv.Transport()
	ctx := testCtx(t)
	srv.SetDefault(memory.Refuse(http.StatusServiceUnavailable, nil, ""))
	for range 3 {
		_, err := tr.Dial(ctx, transport.Target{URL: "ws://x"})
		require.Equal(t, http.StatusServiceUnavailable, transport.StatusFromError(err))
	}
	srv.SetDefault(memory.Proceed())
	c, err := tr.Dial(ctx, transport.Target{URL: "ws://x"})
	require.NoError(t, err)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	require.Len(t, srv.Dials(), 4)
}

func TestUnreachable(t *testing.T) {
	srv := newServer(t)
	srv.Script(memory.Unreachable())
	_, err := srv.Transport().Dial(testCtx(t), transport.Target{URL: "ws://x"})
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	_, ok := errors.AsType[*net.OpError](err)
	require.True(t, ok)
	require.Zero(t, transport.StatusFromError(err))
}

func TestFail(t *testing.T) {
	boom := errors.New("boom")
	srv := newServer(t)
	srv.Script(memory.Fail(boom))
	_, err := srv.Transport().Dial(testCtx(t), transport.Target{URL: "ws://x"})
	require.ErrorIs(t, err, boom)
}

func TestSubprotocolSelection(t *testing.T) {
	srv := newServer(t, memory.WithAutoAccept(), memory.WithSubprotocols("b", "c"))
	tr := srv.Transport()
	ctx := testCtx(t)

	c, err := tr.Dial(ctx, transport.Target{URL: "ws://x", Subprotocols: []string{"a", "c", "b"}})
	require.NoError(t, err)
	assert.Equal(t, "c", c.Subprotocol(), "the client's preference order wins")
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))

	c, err = tr.Dial(ctx, transport.Target{URL: "ws://x"})
	require.NoError(t, err)
	assert.Empty(t, c.Subprotocol())
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))

	_, err = tr.Dial(ctx, transport.Target{URL: "ws://x", Subprotocols: []string{"x"}})
	require.ErrorIs(t, err, transport.ErrSubprotocol)
	require.Len(t, srv.Dials(), 3)
}

func TestNoSubprotocolsByDefault(t *testing.T) {
	srv := newServer(t, memory.WithAutoAccept())
	_, err := srv.Transport().Dial(testCtx(t), transport.Target{URL: "ws://x", Subprotocols: []string{"v1"}})
	require.ErrorIs(t, err, transport.ErrSubprotocol)
}

func TestWaitDials(t *testing.T) {
	srv := newServer(t)
	srv.SetDefault(memory.Unreachable())
	_, err := srv.WaitDials(shortCtx(t), 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	done := make(chan []transport.Target, 1)
	go func() {
		dials, err := srv.WaitDials(testCtx(t), 2)
		assert.NoError(t, err)
		done <- dials
	}()
	for _, u := range []string{"ws://1", "ws://2"} {
		_, err := srv.Transport().Dial(testCtx(t), transport.Target{URL: u})
		require.Error(t, err)
	}
	dials := recv(t, done)
	require.Len(t, dials, 2)
	assert.Equal(t, "ws://2", dials[1].URL)
}

func TestConcurrentDials(t *testing.T) {
	srv := newServer(t, memory.WithAutoAccept())
	tr := srv.Transport()
	const n = 16
	results := make(chan dialResult, n)
	for range n {
		go func() {
			c, err := tr.Dial(testCtx(t), transport.Target{URL: "ws://x"})
			results <- dialResult{c, err}
		}()
	}
	for range n {
		r := recv(t, results)
		require.NoError(t, r.err)
		require.NoError(t, r.conn.Close(transport.StatusNormalClosure, ""))
	}
	for range n {
		sc, err := srv.Accept(testCtx(t))
		require.NoError(t, err)
		require.True(t, closed(sc.Done()))
	}
	require.Len(t, srv.Dials(), n)
}
