package tether_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// discardingTransport dials through Transport and makes each Conn report
// n data messages thrown away once it has ended, as the WebSocket
// transport does for what the server sends before answering a close frame
// when nothing reads the connection (see transport.DiscardCounter).
type discardingTransport struct {
	transport.Transport
	n uint64
}

func (d discardingTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := d.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return &discardingConn{Conn: c, n: d.n}, nil
}

type discardingConn struct {
	transport.Conn
	n uint64
}

func (c *discardingConn) Discarded() uint64 {
	select {
	case <-c.Done():
		return c.n
	default:
		return 0
	}
}

// TestTransportDiscardsAreReported: what a transport threw away unread
// during a close handshake is reported dropped (*InboundDropError,
// ErrDiscarded), once per connection, and counted in Stats, even when no
// message at all was read on that connection.
func TestTransportDiscardsAreReported(t *testing.T) {
	e := newEnv(t)
	reports := make(chan *tether.InboundDropError, 8)
	c, err := tether.New[string]("memory://feed", tether.WithTransport(discardingTransport{e.srv.Transport(), 7}),
		tether.WithClock(e.clk), tether.WithoutHeartbeat(),
		tether.OnError(func(err error) {
			ie, ok := errors.AsType[*tether.InboundDropError](err)
			if assert.True(t, ok, "another error: %v", err) {
				reports <- ie
			}
		}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	for range 2 {
		e.accept()
		waitState(t, c, fsm.Open)
		require.NoError(t, c.Disconnect(ctx))
		r := recv(t, reports)
		assert.Equal(t, uint64(7), r.Count)
		assert.ErrorIs(t, r, tether.ErrDiscarded)
		assert.ErrorIs(t, r, tether.ErrDelivery)
		require.NoError(t, c.Connect(ctx))
	}
	e.accept()
	require.NoError(t, c.Close(ctx))
	<-c.Done()
	assert.Equal(t, uint64(7), recv(t, reports).Count, "the connection Close closed")
	assert.Empty(t, reports, "one report per connection")
	assert.Equal(t, uint64(21), c.Stats().InboundDrops)
	assert.Equal(t, uint64(21), c.Stats().Drops())
}
