package tether_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// TestConnectReturnsAFullySetUpConnection: Subprotocol used to read ""
// right after a successful Connect in 1 of 2,000 runs (15 of 300 under
// -race): Connect saw Open before the Open hooks had made the session
// current. Waiters now hear of a transition after its hooks ran.
func TestConnectReturnsAFullySetUpConnection(t *testing.T) {
	srv, err := memory.NewServer(memory.WithAutoAccept(), memory.WithSubprotocols("v2.feed"))
	require.NoError(t, err)
	for i := range 300 {
		c, err := tether.New[string]("memory://feed", tether.WithTransport(srv.Transport()),
			tether.WithSubprotocols("v2.feed"), tether.WithoutHeartbeat(), tether.WithAutoConnect(false))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		require.NoError(t, c.Connect(ctx))
		require.Equal(t, "v2.feed", c.Subprotocol(), "run %d", i)
		require.True(t, c.IsConnected())
		require.NoError(t, c.Close(ctx))
		cancel()
	}
}

// With auto-connect, Connect waits for the attempt New started, and
// returns at once when the connection is already open (README): 200
// clients, Connect called at once and again once open.
func TestConnectWaitsForTheAutoConnect(t *testing.T) {
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	for i := range 200 {
		c, err := tether.New[string]("memory://feed", tether.WithTransport(srv.Transport()), tether.WithoutHeartbeat())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		require.NoError(t, c.Connect(ctx), "run %d", i)
		require.True(t, c.IsConnected(), "run %d: Connect returned before Open", i)
		require.NoError(t, c.Connect(ctx), "run %d: Connect while open", i)
		require.Equal(t, uint64(0), c.Stats().Reconnects, "run %d: Connect while open dialed again", i)
		require.NoError(t, c.Close(ctx))
		cancel()
	}
}

// Endpoint is a named string type, as a configuration package may declare.
type Endpoint string

// TestNamedStringURL: New takes any string type (it used to take only
// string and a URL function).
func TestNamedStringURL(t *testing.T) {
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	c, err := tether.New[string](Endpoint("memory://feed"), tether.WithTransport(srv.Transport()),
		tether.WithoutHeartbeat(), tether.WithAutoConnect(false))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	require.NoError(t, c.Close(ctx))

	_, err = tether.New[string](Endpoint("localhost:8080"), tether.WithAutoConnect(false))
	require.ErrorIs(t, err, transport.ErrBadTarget, "a named string is checked like a string")
}

// TestCloseWithCodeAndReason: Close always sent 1000 with an empty
// reason; CloseWith chooses both, refuses a code that may not be sent,
// and only the first close chooses.
func TestCloseWithCodeAndReason(t *testing.T) {
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	c, err := tether.New[string]("memory://feed", tether.WithTransport(srv.Transport()),
		tether.WithoutHeartbeat(), tether.WithAutoConnect(false))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)

	for _, bad := range []transport.StatusCode{0, 1005, 1006, 1015, 2000, 5000} {
		require.ErrorIs(t, c.CloseWith(ctx, bad, "x"), tether.ErrInvalidCloseCode, "%d", bad)
	}
	require.True(t, c.IsConnected(), "a refused code closes nothing")

	require.NoError(t, c.CloseWith(ctx, 4001, "maintenance"))
	code, reason, ok := sc.CloseReceived()
	require.True(t, ok, "the server received a close frame")
	require.Equal(t, transport.StatusCode(4001), code)
	require.Equal(t, "maintenance", reason)
	require.NoError(t, c.Close(ctx), "a later Close waits for the same shutdown")
}
