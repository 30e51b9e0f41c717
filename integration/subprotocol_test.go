package integration

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/transport"
)

// TestSubprotocolNegotiated offers subprotocols to ws, whose handleProtocols
// prefers v2.tether, then v1.tether: Subprotocol reports the server's choice,
// and ws agrees on it.
func TestSubprotocolNegotiated(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	for _, tc := range []struct {
		name    string
		offered []string
		want    string
	}{
		{"server picks v2", []string{"v1.tether", "v2.tether"}, "v2.tether"},
		{"server picks the only known one", []string{"unknown.proto", "v1.tether"}, "v1.tether"},
		{"none offered", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := newID(t)
			c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/echo", id), Subprotocols: tc.offered})
			assert.Equal(t, tc.want, c.Subprotocol())
			e := waitEvent(t, p, peer.Is(id, peer.KindOpen))
			assert.Equal(t, tc.want, e.Protocol, "ws selected the same")

			write(t, c, transport.Text, []byte("negotiated"))
			requireMessage(t, c, transport.Text, []byte("negotiated"))
		})
	}
}

// TestSubprotocolRefused offers subprotocols ws does not choose: when it
// selects none, or selects one we did not offer, Dial fails with
// ErrSubprotocol and leaves nothing open (ws sees the connection end).
func TestSubprotocolRefused(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	for _, tc := range []struct {
		name    string
		offered []string
		kv      []string
	}{
		{"server selects none", []string{"unknown.proto"}, nil},
		{"server selects one not offered", []string{"v1.tether"}, []string{"pick", "evil.proto"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := newID(t)
			err := dialErr(t, newTransport(t), transport.Target{URL: peerURL(p, "/echo", id, tc.kv...), Subprotocols: tc.offered})
			require.ErrorIs(t, err, transport.ErrSubprotocol)
			waitEvent(t, p, peer.Is(id, peer.KindClose))
		})
	}
}
