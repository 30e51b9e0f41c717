package websocket

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// TestLentPayloadSurvivesCloseReadingAhead: a payload Read returns straight
// from the read buffer stays as it was until the next Read, even when
// Close reads ahead meanwhile and needs more bytes than that buffer holds
// (the buffer of a connection without a way to park it is kept for life,
// so it would be refilled in place). Messages of both length encodings.
func TestLentPayloadSurvivesCloseReadingAhead(t *testing.T) {
	for _, size := range []int{100, 1000} {
		first := bytes.Repeat([]byte{'A'}, size)
		in := encode(ws.OpBinary, true, first)
		for i := range 8 * DefaultBufferSize / size {
			in = append(in, encode(ws.OpBinary, true, bytes.Repeat([]byte{byte('a' + i%26)}, size))...)
		}
		in = append(in, encode(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))...)

		o := defaultOptions()
		require.NoError(t, o.resolve())
		c := newConn(&memConn{in: bytes.NewReader(in)}, nil, &o, "")
		m, err := c.Read()
		require.NoError(t, err)
		require.Equal(t, first, m.Payload)
		require.True(t, c.rd.lent, "size %d: the payload is lent from the read buffer, not copied", size)

		require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
		assert.Equal(t, first, m.Payload, "size %d: Close read ahead into the payload the reader holds", size)
		next, err := c.Read()
		require.NoError(t, err, "what Close read ahead is kept for the reader")
		assert.Equal(t, bytes.Repeat([]byte{'a'}, size), next.Payload)
	}
}
