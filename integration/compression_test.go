package integration

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/internal/feedtest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// feedMessage is message i of a realistic JSON feed: a batch of five
// metrics envelopes, about 500 bytes.
func feedMessage(i int) []byte { return feedtest.Batch(5*i, 5) }

// TestCompressionInterop runs permessage-deflate both ways against ws, with
// each side's context taken over or not, as the client offers it and as ws
// imposes it: ws inflates what tether compressed (and echoes it,
// compressed by ws), tether inflates what ws compressed, every message
// arrives whole, fragmented ones too (with a ping between fragments), and
// what ws reads from the socket shows the client's messages were
// compressed.
func TestCompressionInterop(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	for _, tc := range []struct {
		name  string
		cfg   websocket.Compression
		query []string
		want  websocket.Negotiated
	}{
		{
			name: "defaults", cfg: websocket.Compression{},
			want: websocket.Negotiated{ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		},
		{
			name: "no takeover asked", cfg: websocket.Compression{ServerNoContextTakeover: true},
			want: websocket.Negotiated{ServerNoContextTakeover: true, ClientNoContextTakeover: true,
				ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		},
		{
			name: "both take over", cfg: websocket.Compression{ClientContextTakeover: true},
			want: websocket.Negotiated{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		},
		{
			name: "ws imposes no takeover", cfg: websocket.Compression{ClientContextTakeover: true},
			query: []string{"snct", "1", "cnct", "1"},
			want: websocket.Negotiated{ServerNoContextTakeover: true, ClientNoContextTakeover: true,
				ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		},
		{
			name: "small server window", cfg: websocket.Compression{ServerMaxWindowBits: 10},
			want: websocket.Negotiated{ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 15},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTransport(t, websocket.WithCompression(tc.cfg))

			id := newID(t)
			c := dial(t, tr, transport.Target{URL: peerURL(p, "/echo", id, append([]string{"deflate", "1"}, tc.query...)...)})
			n, ok := websocket.CompressionOf(c)
			require.True(t, ok)
			assert.Equal(t, tc.want, n)
			open := waitEvent(t, p, peer.Is(id, peer.KindOpen))
			assert.Equal(t, "permessage-deflate", open.Extensions)

			raw, wire := 0, 0
			for i := range 100 {
				msg := feedMessage(i)
				raw += len(msg)
				write(t, c, transport.Text, msg)
				requireMessage(t, c, transport.Text, msg)
			}
			// The last message event: the bytes ws had read by then.
			for _, e := range p.Events() {
				if e.ID == id && e.Kind == peer.KindMessage {
					wire = e.Wire
				}
			}
			t.Logf("client sent %d bytes of JSON in %d bytes on the wire (upgrade request included)", raw, wire)
			assert.Less(t, wire, raw/2, "the client compressed what it sent")

			// Already compressed: sent as is, echoed compressed by ws.
			blob := randomBinary(4000)
			ctx := t.Context()
			require.NoError(t, websocket.WriteUncompressed(ctx, c, transport.Binary, blob))
			requireMessage(t, c, transport.Binary, blob)

			fid := newID(t)
			f := dial(t, tr, transport.Target{URL: peerURL(p, "/fragmented", fid, append([]string{"deflate", "1"}, tc.query...)...)})
			for _, cmd := range []struct {
				typ    transport.MessageType
				size   int
				frames int
			}{
				{transport.Text, 1000, 2}, {transport.Binary, 70000, 7}, {transport.Text, 1 << 20, 16},
			} {
				write(t, f, transport.Text, fmt.Appendf(nil, "%s %d %d ping", cmd.typ, cmd.size, cmd.frames))
				requireMessage(t, f, transport.Ping, []byte("between"))
				requireMessage(t, f, cmd.typ, pattern(cmd.size))
			}
			require.NoError(t, f.Close(transport.StatusNormalClosure, ""))
			e := waitEvent(t, p, peer.Is(fid, peer.KindClose))
			assert.Equal(t, int(transport.StatusNormalClosure), e.Code)
			for _, e := range p.Events() {
				if (e.ID == id || e.ID == fid) && e.Kind == peer.KindError {
					assert.Fail(t, "ws reported an error", e.Message)
				}
			}
		})
	}
}

// TestCompressionDeclinedByWS: ws without permessage-deflate declines the
// offer; the connection works uncompressed.
func TestCompressionDeclinedByWS(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	id := newID(t)
	c := dial(t, newTransport(t, websocket.WithCompression(websocket.Compression{})), transport.Target{URL: peerURL(p, "/echo", id)})
	_, ok := websocket.CompressionOf(c)
	assert.False(t, ok)
	open := waitEvent(t, p, peer.Is(id, peer.KindOpen))
	assert.Empty(t, open.Extensions)
	msg := feedMessage(1)
	write(t, c, transport.Text, msg)
	requireMessage(t, c, transport.Text, msg)
	e := waitEvent(t, p, peer.Is(id, peer.KindMessage))
	assert.Greater(t, e.Wire, len(msg), "sent uncompressed")
}

// TestCompressionLimitAgainstWS: a message from ws that inflates past the
// client's limit closes the connection with 1009, and ws receives 1009.
func TestCompressionLimitAgainstWS(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	id := newID(t)
	// 1 MiB of a repeating pattern compresses to a few kilobytes.
	c := dial(t, newTransport(t, websocket.WithCompression(websocket.Compression{}), websocket.WithMaxMessageSize(64<<10)),
		transport.Target{URL: peerURL(p, "/big", id, "deflate", "1", "size", fmt.Sprint(1<<20))})
	_, err := c.Read()
	code, ok := transport.CloseCode(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, transport.StatusMessageTooBig, code)
	require.ErrorIs(t, err, transport.ErrMessageTooLarge)
	e := waitEvent(t, p, peer.Is(id, peer.KindClose))
	assert.Equal(t, int(transport.StatusMessageTooBig), e.Code)
}
