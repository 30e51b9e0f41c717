package integration

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/transport"
)

// TestFragmentedMessagesArriveWhole has ws send messages split into
// several frames (a first frame, continuation frames, fin on the last) and
// requires each to come out of Read as one message of the right type.
func TestFragmentedMessagesArriveWhole(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/fragmented", newID(t))})
	for _, tc := range []struct {
		typ    transport.MessageType
		size   int
		frames int
	}{
		{transport.Text, 10, 3},
		{transport.Binary, 10, 10},
		{transport.Text, 1000, 2},
		{transport.Binary, 70000, 7},  // frames of 10000: 16-bit lengths joined past 65535
		{transport.Binary, 300000, 3}, // frames of 64-bit length, beyond the retained buffer
		{transport.Text, 1 << 20, 16},
		{transport.Binary, 1 << 20, 16},
	} {
		t.Run(fmt.Sprintf("%s/%d-in-%d", tc.typ, tc.size, tc.frames), func(t *testing.T) {
			write(t, c, transport.Text, fmt.Appendf(nil, "%s %d %d", tc.typ, tc.size, tc.frames))
			requireMessage(t, c, tc.typ, pattern(tc.size))
		})
	}
}

// TestPingBetweenFragments has ws send a ping between the first and second
// frames of a message. RFC 6455 allows control frames there: Read returns
// the ping (after answering it), then the whole message, and ws receives
// our pong.
func TestPingBetweenFragments(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	id := newID(t)
	c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/fragmented", id)})

	write(t, c, transport.Text, []byte("binary 3000 3 ping"))
	requireMessage(t, c, transport.Ping, []byte("between"))
	requireMessage(t, c, transport.Binary, pattern(3000))
	e := waitEvent(t, p, peer.Is(id, peer.KindPong))
	assert.Equal(t, "between", e.Payload)
}
