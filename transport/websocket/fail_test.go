package websocket

import (
	"bytes"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// violations are inputs for which the client fails the connection, with the
// code it sends and the cause its *CloseError wraps.
var violations = []struct {
	name  string
	opts  []Option
	input func(t *testing.T) []byte
	code  transport.StatusCode
	cause error
}{
	{
		name: "1009 message too big",
		opts: []Option{WithMaxMessageSize(1024)},
		input: func(t *testing.T) []byte {
			return frameBytes(t, ws.NewBinaryFrame(make([]byte, 1025)))
		},
		code:  transport.StatusMessageTooBig,
		cause: transport.ErrMessageTooLarge,
	},
	{
		name: "1002 reserved opcode",
		input: func(t *testing.T) []byte {
			return frameBytes(t, ws.NewFrame(0x3, true, nil))
		},
		code:  transport.StatusProtocolError,
		cause: transport.ErrProtocol,
	},
	{
		name: "1007 invalid UTF-8",
		input: func(t *testing.T) []byte {
			return frameBytes(t, ws.NewTextFrame([]byte("ok \xff")))
		},
		code:  transport.StatusInvalidPayloadData,
		cause: transport.ErrInvalidUTF8,
	},
}

func frameBytes(t *testing.T, f ws.Frame) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, ws.WriteFrame(&b, f))
	return b.Bytes()
}

// TestFailEndsTheReadAtOnce: a connection the client fails ends for the
// reader at once, although the peer never closes the TCP connection and
// the close timeout is an hour: Read returns the local *CloseError, Err
// reports it before the connection is released, and a Close that follows
// returns at once without turning the code into its own. It used to block
// the Read for the whole close timeout while Err said nil.
func TestFailEndsTheReadAtOnce(t *testing.T) {
	for _, v := range violations {
		t.Run(v.name, func(t *testing.T) {
			c, p, _ := connectPair(t, append([]Option{WithCloseTimeout(time.Hour)}, v.opts...)...)
			sent := make(chan transport.StatusCode, 1)
			go func() {
				// Read the close frame, then keep the TCP connection open.
				code, _, ok := p.readClose()
				if ok {
					sent <- code
				}
			}()
			reads := readLoop(c)
			_, err := p.conn.Write(v.input(t))
			require.NoError(t, err)

			r := next(t, reads)
			ce := closeErr(t, r.err)
			assert.Equal(t, v.code, ce.Code)
			assert.False(t, ce.Remote)
			assert.ErrorIs(t, r.err, v.cause)
			assert.Equal(t, r.err, c.Err(), "Err reports the failure at once")
			select {
			case <-c.Done():
				require.Fail(t, "the peer has not closed TCP: the close goes on in the background")
			default:
			}
			select {
			case code := <-sent:
				assert.Equal(t, v.code, code, "close code on the wire")
			case <-time.After(wait):
				require.FailNow(t, "no close frame reached the peer")
			}

			closed := make(chan error, 1)
			go func() { closed <- c.Close(transport.StatusNormalClosure, "") }()
			select {
			case err := <-closed:
				assert.NoError(t, err)
			case <-time.After(wait):
				require.FailNow(t, "Close waited for the peer to hang up")
			}
			waitDone(t, c)
			assert.Equal(t, r.err, c.Err(), "Close keeps the failure")
			code, ok := transport.CloseCode(c.Err())
			assert.True(t, ok)
			assert.Equal(t, v.code, code)
			_, err = c.Read()
			assert.Equal(t, r.err, err)
		})
	}
}

// TestAbortAfterFailKeepsTheCode: an abort (a code that is not sent, as a
// heartbeat uses) on a connection being failed releases it and keeps the
// failure as its end.
func TestAbortAfterFailKeepsTheCode(t *testing.T) {
	c, p, _ := connectPair(t, WithCloseTimeout(time.Hour), WithMaxMessageSize(16))
	reads := readLoop(c)
	require.NoError(t, p.write(ws.OpBinary, true, make([]byte, 17)))
	err := next(t, reads).err
	require.Equal(t, transport.StatusMessageTooBig, closeErr(t, err).Code)
	require.NoError(t, c.Close(transport.StatusAbnormalClosure, ""))
	waitDone(t, c)
	assert.Equal(t, err, c.Err())
}
