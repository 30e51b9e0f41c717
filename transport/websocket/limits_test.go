package websocket

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// expectClose checks that the client failed with code and cause, that the
// server received a well-formed masked close frame with code, and that the
// client waited for the server to close the TCP connection.
func expectClose(t *testing.T, c transport.Conn, p *peer, code transport.StatusCode, cause error) {
	t.Helper()
	got := make(chan transport.StatusCode, 1)
	go func() {
		seen, _, ok := p.readClose()
		if !ok {
			close(got)
			return
		}
		got <- seen
		_ = p.writeClose(seen, "")
		p.conn.Close()
	}()
	_, err := c.Read()
	ce := closeErr(t, err)
	assert.Equal(t, code, ce.Code)
	assert.False(t, ce.Remote)
	assert.ErrorIs(t, err, cause)
	seen, ok := <-got
	require.True(t, ok)
	assert.Equal(t, code, seen, "close code observed by the server")
	waitDone(t, c)
	assert.Equal(t, err, c.Err())
}

func TestOversizeMessage(t *testing.T) {
	c, p, _ := connectPair(t, WithMaxMessageSize(1024))
	require.NoError(t, p.write(ws.OpBinary, true, make([]byte, 1024)))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Len(t, m.Payload, 1024, "a message at the limit passes")
	require.NoError(t, p.write(ws.OpBinary, true, make([]byte, 1025)))
	expectClose(t, c, p, transport.StatusMessageTooBig, transport.ErrMessageTooLarge)
}

func TestOversizeFragmentedMessage(t *testing.T) {
	c, p, _ := connectPair(t, WithMaxMessageSize(1000), WithMaxFrameSize(400))
	require.NoError(t, p.write(ws.OpText, false, bytes.Repeat([]byte("a"), 400)))
	require.NoError(t, p.write(ws.OpContinuation, false, bytes.Repeat([]byte("b"), 400)))
	require.NoError(t, p.write(ws.OpContinuation, true, bytes.Repeat([]byte("c"), 400)))
	expectClose(t, c, p, transport.StatusMessageTooBig, transport.ErrMessageTooLarge)
}

func TestOversizeFrame(t *testing.T) {
	c, p, _ := connectPair(t, WithMaxFrameSize(100))
	// Declared length only: the client must not wait for the payload.
	var b bytes.Buffer
	require.NoError(t, ws.WriteHeader(&b, ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 40}))
	_, err := p.conn.Write(b.Bytes())
	require.NoError(t, err)
	expectClose(t, c, p, transport.StatusMessageTooBig, transport.ErrMessageTooLarge)
}

func TestInvalidUTF8(t *testing.T) {
	c, p, _ := connectPair(t)
	require.NoError(t, p.write(ws.OpText, true, []byte("ok \xff")))
	expectClose(t, c, p, transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8)
}

func TestInvalidUTF8InFirstFragmentFailsFast(t *testing.T) {
	c, p, _ := connectPair(t)
	// The message never finishes: the check must not wait for the end.
	require.NoError(t, p.write(ws.OpText, false, []byte("\xc3\x28")))
	expectClose(t, c, p, transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8)
}

func TestInvalidUTF8CloseReason(t *testing.T) {
	c, p, _ := connectPair(t)
	require.NoError(t, p.write(ws.OpClose, true, []byte{0x03, 0xe8, 0xff}))
	expectClose(t, c, p, transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8)
}

func TestBinaryIsNotCheckedForUTF8(t *testing.T) {
	c, p, _ := connectPair(t)
	require.NoError(t, p.write(ws.OpBinary, true, []byte{0xff, 0xfe}))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, []byte{0xff, 0xfe}, m.Payload)
	go echo(p)
}

func TestProtocolErrors(t *testing.T) {
	hdr := func(h ws.Header, payload []byte) []byte {
		var b bytes.Buffer
		_ = ws.WriteHeader(&b, h)
		b.Write(payload)
		return b.Bytes()
	}
	closeBody := func(code uint16) []byte {
		return binary.BigEndian.AppendUint16(nil, code)
	}
	cases := []struct {
		name  string
		bytes []byte
	}{
		{
			name:  "reserved data opcode",
			bytes: hdr(ws.Header{Fin: true, OpCode: 0x3}, nil),
		},
		{
			name:  "reserved control opcode",
			bytes: hdr(ws.Header{Fin: true, OpCode: 0xB}, nil),
		},
		{
			name:  "rsv bit",
			bytes: hdr(ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText}, []byte("x")),
		},
		{
			name:  "masked server frame",
			bytes: hdr(ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Length: 1}, []byte("x")),
		},
		{
			name:  "control frame over 125 bytes",
			bytes: hdr(ws.Header{Fin: true, OpCode: ws.OpPing, Length: 126}, make([]byte, 126)),
		},
		{
			name:  "fragmented control frame",
			bytes: hdr(ws.Header{OpCode: ws.OpPing, Length: 1}, []byte("x")),
		},
		{
			name:  "continuation without a start",
			bytes: hdr(ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: 1}, []byte("x")),
		},
		{
			name: "new message inside a fragmented one",
			bytes: append(hdr(ws.Header{OpCode: ws.OpText, Length: 1}, []byte("x")),
				hdr(ws.Header{Fin: true, OpCode: ws.OpText, Length: 1}, []byte("y"))...),
		},
		{
			name:  "close with a 1-byte payload",
			bytes: hdr(ws.Header{Fin: true, OpCode: ws.OpClose, Length: 1}, []byte{3}),
		},
		{
			name:  "close with code 1005",
			bytes: hdr(ws.Header{Fin: true, OpCode: ws.OpClose, Length: 2}, closeBody(1005)),
		},
		{
			name:  "close with code 999",
			bytes: hdr(ws.Header{Fin: true, OpCode: ws.OpClose, Length: 2}, closeBody(999)),
		},
		{
			name:  "close with code 2000",
			bytes: hdr(ws.Header{Fin: true, OpCode: ws.OpClose, Length: 2}, closeBody(2000)),
		},
		{
			name:  "64-bit length with the top bit set",
			bytes: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, p, _ := connectPair(t)
			_, err := p.conn.Write(tc.bytes)
			require.NoError(t, err)
			expectClose(t, c, p, transport.StatusProtocolError, transport.ErrProtocol)
		})
	}
}

func TestProtocolErrorWaitsForServerToClose(t *testing.T) {
	// A server that never answers our 1002: the client gives up after the
	// close timeout and still reports the protocol error.
	c, p, _ := connectPair(t, WithCloseTimeout(100*time.Millisecond))
	_, err := p.conn.Write([]byte{0x83, 0})
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, p.br) }()
	_, err = c.Read()
	assert.ErrorIs(t, err, transport.ErrProtocol)
	assert.Equal(t, transport.StatusProtocolError, closeErr(t, err).Code)
}
