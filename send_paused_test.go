package tether_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// TestASendHeldByAPausedReaderSaysWhy: a client that only sends, to a
// server that answers every message, stops reading once it holds WithHold
// messages for a first consumer; the peer's confirmations then go unread
// too, the record of unconfirmed writes fills (4 MiB here, in 64 KiB
// messages) and Send waits. The Send its ctx ends says why: it matches
// ErrNoConsumer as well as ctx's error (an outside review's send-only
// client stopped at 32,768 Sends, each a bare "context deadline
// exceeded").
func TestASendHeldByAPausedReaderSaysWhy(t *testing.T) {
	srv := tethertest.NewWSServer(tethertest.WithHandler(func(sc *tethertest.WSConn) {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		for {
			m, err := sc.Recv(ctx)
			if err != nil || sc.Send(transport.Binary, m.Payload[:1]) != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, err := tether.New[[]byte](srv.URL, tether.WithHold(8), tether.WithoutHeartbeat())
	require.NoError(t, err)
	defer func() { assert.NoError(t, c.Close(context.Background())) }()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))

	payload := bytes.Repeat([]byte{'x'}, 64<<10)
	for i := 0; ; i++ {
		require.Less(t, i, 10_000, "Send never waited")
		sctx, scancel := context.WithTimeout(ctx, time.Second) // generous: only the wait for a confirmation reaches it
		err := c.SendBinary(sctx, payload)
		scancel()
		if err == nil {
			continue
		}
		require.ErrorIs(t, err, context.DeadlineExceeded, "%v", err)
		assert.ErrorIs(t, err, tether.ErrNoConsumer, "the error says reading is paused")
		assert.True(t, errors.Is(err, tether.ErrDelivery), "ErrNoConsumer's class")
		return
	}
}

// TestASendWaitingForTheNextConnectionIsNoConsumerMatter: the hold is full
// from a connection that then ended; while the client waits to reconnect,
// a Send waiting for room in the send buffer that its ctx ends matches
// ctx's error only: it waited for a connection, not for a consumer (a
// later outside review saw ErrNoConsumer blamed).
func TestASendWaitingForTheNextConnectionIsNoConsumerMatter(t *testing.T) {
	e := newEnv(t)
	full := make(chan struct{})
	var once sync.Once
	c := client[[]byte](e, tether.WithHold(2), tether.WithSendBuffer(4, 1<<20, stream.Block),
		tether.OnError(func(err error) {
			if errors.Is(err, tether.ErrNoConsumer) {
				once.Do(func() { close(full) })
			}
		}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc := e.accept()
	for range 3 {
		require.NoError(t, sc.Send(ctx, transport.Text, []byte("m")))
	}
	select {
	case <-full:
	case <-ctx.Done():
		require.FailNow(t, "the hold never filled")
	}
	sc.Drop()
	waitState(t, c, fsm.Waiting) // the reconnect timer waits on the fake clock
	for i := 0; ; i++ {
		require.Less(t, i, 100, "Send never waited")
		sctx, scancel := context.WithTimeout(ctx, 50*time.Millisecond)
		err := c.SendBinary(sctx, []byte("x"))
		scancel()
		if err == nil {
			continue
		}
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, tether.ErrNoConsumer)
		return
	}
}
