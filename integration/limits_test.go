package integration

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// TestOversizeMessageCloses1009 has ws send more than the client's
// WithMaxMessageSize(1024): in one frame (refused from its header) and in
// 512-byte frames that only the joined message exceeds. Read fails at once
// with a local close 1009 wrapping ErrMessageTooLarge, ws receives 1009,
// and the connection ends once ws hangs up.
func TestOversizeMessageCloses1009(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	for _, frames := range []int{1, 8} {
		t.Run(strconv.Itoa(frames)+"-frames", func(t *testing.T) {
			t.Parallel()
			id := newID(t)
			tr := newTransport(t, websocket.WithMaxMessageSize(1024))
			c := dial(t, tr, transport.Target{URL: peerURL(p, "/big", id, "size", "4096", "frames", strconv.Itoa(frames))})

			_, err := c.Read()
			require.ErrorIs(t, err, transport.ErrMessageTooLarge)
			code, ok := transport.CloseCode(err)
			require.True(t, ok)
			assert.Equal(t, transport.StatusMessageTooBig, code)
			var ce *transport.CloseError
			require.ErrorAs(t, err, &ce)
			assert.False(t, ce.Remote, "this side closed")
			// Read returned at once; the connection ends once ws has read
			// our close and hung up, within the close timeout.
			select {
			case <-c.Done():
			case <-time.After(10 * time.Second):
				require.FailNow(t, "Done did not close after ws hung up")
			}
			code, _ = transport.CloseCode(c.Err())
			assert.Equal(t, transport.StatusMessageTooBig, code, "the end keeps the code the client raised")

			e := waitEvent(t, p, peer.Is(id, peer.KindClose))
			assert.Equal(t, int(transport.StatusMessageTooBig), e.Code, "ws received our 1009")
		})
	}
}

// TestMessageAtTheLimitPasses has ws send exactly WithMaxMessageSize bytes,
// whole and in fragments: the limit is inclusive.
func TestMessageAtTheLimitPasses(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	for _, frames := range []int{1, 8} {
		t.Run(strconv.Itoa(frames)+"-frames", func(t *testing.T) {
			t.Parallel()
			tr := newTransport(t, websocket.WithMaxMessageSize(1024))
			c := dial(t, tr, transport.Target{URL: peerURL(p, "/big", newID(t), "size", "1024", "frames", strconv.Itoa(frames))})
			requireMessage(t, c, transport.Binary, pattern(1024))
		})
	}
}
