package websocket

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// fragmented encodes one binary message of size bytes in server frames of
// frag bytes each (the last may be shorter).
func fragmented(size, frag int) []byte {
	var b bytes.Buffer
	chunk := bytes.Repeat([]byte{'x'}, frag)
	for off := 0; off < size; off += frag {
		op := ws.OpContinuation
		if off == 0 {
			op = ws.OpBinary
		}
		n := min(frag, size-off)
		_ = ws.WriteFrame(&b, ws.NewFrame(op, off+n == size, chunk[:n]))
	}
	return b.Bytes()
}

// memRead returns a connection that reads input, then EOF.
func memRead(t *testing.T, input []byte, opts ...Option) *conn {
	t.Helper()
	o := defaultOptions()
	for _, opt := range opts {
		require.NoError(t, opt.apply(&o))
	}
	require.NoError(t, o.resolve())
	return newConn(&memConn{in: bytes.NewReader(input)}, nil, &o, "")
}

// TestFragmentedMessageAllocatesLinearly: joining 16 MiB from 4 KiB
// fragments allocates a small multiple of the message, not a copy of
// everything before each fragment (which came to about 32 GiB).
func TestFragmentedMessageAllocatesLinearly(t *testing.T) {
	const size = 16 << 20
	c := memRead(t, fragmented(size, 4<<10))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := c.Read()
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.Len(t, m.Payload, size)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes allocated to read %d", allocated, size)
	assert.Less(t, allocated, uint64(4*size), "bytes allocated to read one message")
}

// TestMessageBufferStaysWithinLimits: the buffer that joins fragments grows
// geometrically but never beyond the message size limit, and after a
// message above the retained size the next Read lets it go.
func TestMessageBufferStaysWithinLimits(t *testing.T) {
	const limit = 1_000_000 // not a power of two: doubling overshoots it
	input := append(fragmented(limit, 1000), fragmented(10, 10)...)
	c := memRead(t, input, WithMaxMessageSize(limit))
	m, err := c.Read()
	require.NoError(t, err)
	require.Len(t, m.Payload, limit)
	assert.LessOrEqual(t, cap(c.buf), limit, "capacity within the message size limit")

	m, err = c.Read()
	require.NoError(t, err)
	require.Len(t, m.Payload, 10)
	assert.LessOrEqual(t, cap(c.buf), retainLimit, "the large buffer is dropped")
}

// TestSmallFragmentedMessagesKeepTheirBuffer: fragmented messages below the
// retained size reuse one buffer: doubling does not take it past
// retainLimit, where it would be dropped after every message.
func TestSmallFragmentedMessagesKeepTheirBuffer(t *testing.T) {
	const size = 200 << 10
	msg := fragmented(size, 3000) // 3000·2^k skips 256 KiB: 192,000 doubles to 384,000
	c := memRead(t, bytes.Repeat(msg, 3))
	_, err := c.Read()
	require.NoError(t, err)
	assert.LessOrEqual(t, cap(c.buf), retainLimit)
	var n int
	allocs := testing.AllocsPerRun(1, func() { // a warm-up Read, then one
		var m transport.Message
		m, err = c.Read()
		n = len(m.Payload)
	})
	require.NoError(t, err)
	require.Equal(t, size, n)
	assert.Zero(t, allocs, "later messages reuse the buffer")
}
