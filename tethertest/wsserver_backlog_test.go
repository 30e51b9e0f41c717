package tethertest_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

type dialed struct {
	c   transport.Conn
	err error
}

// dialAsync dials srv on its own goroutine.
func dialAsync(t *testing.T, ctx context.Context, srv *tethertest.WSServer) <-chan dialed {
	t.Helper()
	tr := newTransport(t)
	out := make(chan dialed, 1)
	go func() {
		c, err := tr.Dial(ctx, transport.Target{URL: srv.URL})
		out <- dialed{c, err}
	}()
	return out
}

// fillBacklog dials AcceptBacklog connections that nobody accepts.
func fillBacklog(t *testing.T, srv *tethertest.WSServer) []transport.Conn {
	t.Helper()
	clients := make([]transport.Conn, 0, tethertest.AcceptBacklog+1)
	for range tethertest.AcceptBacklog {
		clients = append(clients, dial(t, srv.URL))
	}
	t.Cleanup(func() {
		for _, c := range clients {
			_ = c.Close(transport.StatusNormalClosure, "")
		}
	})
	return clients
}

// TestBacklogHoldsTheUpgradeBeyondIt: with no handler and nobody calling
// Accept, the upgrade beyond AcceptBacklog waits, unanswered, until Accept
// makes room; then it completes, and no connection is lost. The server used
// to complete it and drop it at once, silently.
func TestBacklogHoldsTheUpgradeBeyondIt(t *testing.T) {
	srv := tethertest.NewWSServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	clients := fillBacklog(t, srv)

	late := dialAsync(t, ctx, srv)
	require.NoError(t, tethertest.WaitHeld(ctx, srv, 1))
	assert.Equal(t, 1, srv.Held())
	select {
	case <-late:
		require.FailNow(t, "the upgrade beyond the backlog was answered before Accept made room")
	default:
	}

	for i := range tethertest.AcceptBacklog + 1 {
		sc, err := srv.Accept(ctx)
		require.NoError(t, err)
		select {
		case <-sc.Done():
			require.FailNow(t, "a queued connection was dropped", "connection %d", i)
		default:
		}
		if i == 0 {
			select {
			case d := <-late:
				require.NoError(t, d.err)
				t.Cleanup(func() { _ = d.c.Close(transport.StatusNormalClosure, "") })
				clients = append(clients, d.c)
			case <-ctx.Done():
				require.FailNow(t, "Accept made room, and the held upgrade did not complete")
			}
		}
		require.NoError(t, sc.Send(transport.Text, []byte(strconv.Itoa(i))))
	}
	for i, c := range clients {
		m, err := c.Read()
		require.NoError(t, err)
		assert.Equal(t, strconv.Itoa(i), string(m.Payload), "connections are accepted in the order they arrived")
	}
	assert.Zero(t, srv.Held())
}

// TestHeldUpgradeEndsWithItsClientOrTheServer: a held upgrade whose client
// gives up is forgotten, and Close refuses those still held with 503.
func TestHeldUpgradeEndsWithItsClientOrTheServer(t *testing.T) {
	srv := tethertest.NewWSServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	fillBacklog(t, srv)

	giveUp, stop := context.WithCancel(ctx)
	gone := dialAsync(t, giveUp, srv)
	require.NoError(t, tethertest.WaitHeld(ctx, srv, 1))
	stop()
	require.ErrorIs(t, (<-gone).err, context.Canceled)
	require.NoError(t, tethertest.WaitHeld(ctx, srv, 0), "the server still holds an upgrade whose client left")

	refused := dialAsync(t, ctx, srv)
	require.NoError(t, tethertest.WaitHeld(ctx, srv, 1))
	srv.Close()
	var he *transport.HandshakeError
	require.ErrorAs(t, (<-refused).err, &he)
	assert.Equal(t, http.StatusServiceUnavailable, he.StatusCode)
}
