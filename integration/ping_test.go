package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/transport"
)

// TestServerPingIsAnswered has ws ping us with a payload: Read returns the
// ping, and ws receives a pong with the same payload (it tells us so with a
// "pong <payload>" text message, and in its events).
func TestServerPingIsAnswered(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	id := newID(t)
	c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/ping", id)})

	for _, payload := range []string{"hello", "", strings.Repeat("p", 125)} {
		write(t, c, transport.Text, []byte("ping "+payload))
		requireMessage(t, c, transport.Ping, []byte(payload))
		requireMessage(t, c, transport.Text, []byte("pong "+payload))
	}
	e := waitEvent(t, p, peer.Is(id, peer.KindPong))
	assert.Equal(t, "hello", e.Payload)
}

// TestServerPeriodicPings has ws ping every 20 ms on its own schedule while
// we only read: every ping is answered, in order, without any write of ours.
func TestServerPeriodicPings(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/ping", newID(t), "interval", "20")})

	var pings []string
	for {
		m := read(t, c)
		if m.Type == transport.Ping {
			pings = append(pings, string(m.Payload))
			continue
		}
		require.Equal(t, transport.Text, m.Type)
		if string(m.Payload) == "pong 3" {
			break
		}
	}
	require.GreaterOrEqual(t, len(pings), 3)
	assert.Equal(t, []string{"1", "2", "3"}, pings[:3])
}

// TestClientPingGetsPong pings ws: its automatic pong comes back through
// Read as a Pong with our payload, and ws reports the ping it received.
func TestClientPingGetsPong(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	id := newID(t)
	c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/echo", id)})

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for _, payload := range []string{"tether", "", strings.Repeat("x", 125)} {
		require.NoError(t, c.Ping(ctx, []byte(payload)))
		requireMessage(t, c, transport.Pong, []byte(payload))
	}
	e := waitEvent(t, p, peer.Is(id, peer.KindPing))
	assert.Equal(t, "tether", e.Payload)

	// Data still flows after the control frames.
	write(t, c, transport.Text, []byte("after pings"))
	requireMessage(t, c, transport.Text, []byte("after pings"))
}
