package client

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/integration/peer"
)

// deadline bounds every real-time wait; nothing is asserted about elapsed
// time.
const deadline = 30 * time.Second

// TestClientEchoThroughWS drives the whole Client (lifecycle machine,
// outbound buffer, one writer, reader, message hub, heartbeat defaults)
// against ws: Connect opens, sent strings come back through Messages in
// order, and Close ends with a normal closure that ws receives.
func TestClientEchoThroughWS(t *testing.T) {
	p := peer.StartT(t)
	id := t.Name()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	c, err := tether.New[string](p.URL("/echo?"+url.Values{"id": {id}}.Encode()), tether.WithAutoConnect(false))
	require.NoError(t, err)
	defer func() { _ = c.Close(ctx) }() // a require below may end the test early

	msgs := c.Messages(ctx)
	defer msgs.Close()
	require.NoError(t, c.Connect(ctx))
	_, err = p.Wait(ctx, peer.Is(id, peer.KindOpen))
	require.NoError(t, err)

	sent := []string{"x", "", "hello, ws", "ünïcödé ✓"}
	for _, s := range sent {
		require.NoError(t, c.Send(ctx, s))
	}
	for _, want := range sent {
		select {
		case got, ok := <-msgs.C():
			require.True(t, ok, "the message stream ended early")
			assert.Equal(t, want, got)
		case <-ctx.Done():
			require.FailNow(t, "no echo from ws", "waiting for %q", want)
		}
	}

	require.NoError(t, c.Close(ctx))
	select { // Done follows once the last callbacks have run
	case <-c.Done():
	case <-ctx.Done():
		require.FailNow(t, "Done did not close after Close returned")
	}
	e, err := p.Wait(ctx, peer.Is(id, peer.KindClose))
	require.NoError(t, err)
	assert.Equal(t, 1000, e.Code, "ws received a normal closure")
}
