package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/transport"
)

// echoSizes straddle the frame length encodings: 7-bit (<= 125), 16-bit
// (126 to 65535) and 64-bit (>= 65536), plus the empty message and 1 MiB.
var echoSizes = []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20}

// TestEcho sends text and binary messages of every size to ws and requires
// them back byte for byte, with their type: ws parsed our masked frames and
// we parsed its unmasked ones, at each length encoding.
func TestEcho(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	for _, tc := range []struct {
		typ  transport.MessageType
		make func(int) []byte
	}{
		{transport.Text, randomText},
		{transport.Binary, randomBinary},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			t.Parallel()
			id := newID(t)
			c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/echo", id)})
			for _, n := range echoSizes {
				t.Run(fmt.Sprint(n), func(t *testing.T) {
					payload := tc.make(n)
					write(t, c, tc.typ, payload)
					requireMessage(t, c, tc.typ, payload)
					e := waitEvent(t, p, func(e peer.Event) bool {
						return peer.Is(id, peer.KindMessage)(e) && e.Size == n
					})
					assert.Equal(t, tc.typ == transport.Binary, e.Binary, "ws received the message as %s", tc.typ)
				})
			}
		})
	}
}

// TestEchoConcurrentWriters has 8 goroutines write at once through one
// connection. The Conn coalesces their frames into shared flushes; ws would
// fail the connection (1002) on a frame torn by a race. Every message must
// come back whole, each writer's in the order it wrote them.
func TestEchoConcurrentWriters(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	id := newID(t)
	c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/echo", id)})

	const writers, perWriter = 8, 100
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel, should a require below end the test early
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				// Sizes vary across the 7- and 16-bit length encodings.
				msg := fmt.Appendf(nil, "%d:%d:", w, i)
				msg = append(msg, pattern((w*perWriter+i)*7%300)...)
				if !assert.NoError(t, c.Write(ctx, transport.Binary, msg)) {
					return
				}
			}
		})
	}

	next := make([]int, writers) // the index each writer's next message must have
	for range writers * perWriter {
		m := read(t, c)
		require.Equal(t, transport.Binary, m.Type)
		var w, i int
		_, err := fmt.Sscanf(string(m.Payload), "%d:%d:", &w, &i)
		require.NoError(t, err, "a message came back torn: %q", m.Payload)
		require.Equal(t, next[w], i, "writer %d's messages out of order", w)
		next[w]++
		prefix := fmt.Sprintf("%d:%d:", w, i)
		requireSameBytes(t, append([]byte(prefix), pattern((w*perWriter+i)*7%300)...), m.Payload)
	}
	wg.Wait()
	assert.NoError(t, c.Err(), "the connection is still up")
}
