package websocket

import (
	"context"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

func TestServerPingIsAnsweredAndReturned(t *testing.T) {
	c, p, _ := connectPair(t)
	require.NoError(t, p.write(ws.OpPing, true, []byte("are you there")))

	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Ping, m.Type)
	assert.Equal(t, "are you there", string(m.Payload))

	f, err := p.read()
	require.NoError(t, err)
	assert.Equal(t, ws.OpPong, f.op)
	assert.True(t, f.masked)
	assert.Equal(t, "are you there", string(f.payload))
	go echo(p)
}

func TestClientPingGetsPong(t *testing.T) {
	c, p, _ := connectPair(t)
	go echo(p)
	require.NoError(t, c.Ping(context.Background(), []byte("hb-1")))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Pong, m.Type)
	assert.Equal(t, "hb-1", string(m.Payload))
}

func TestUnsolicitedPongIsReturned(t *testing.T) {
	c, p, _ := connectPair(t)
	require.NoError(t, p.write(ws.OpPong, true, nil))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Pong, m.Type)
	assert.Empty(t, m.Payload)
	go echo(p)
}

func TestPingPayloadLimit(t *testing.T) {
	c, p, _ := connectPair(t)
	go echo(p)
	err := c.Ping(context.Background(), make([]byte, 126))
	require.ErrorIs(t, err, transport.ErrMessageTooLarge)
	require.NoError(t, c.Ping(context.Background(), make([]byte, 125)))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Pong, m.Type)
	assert.Len(t, m.Payload, 125)
}

func TestWriteRejectsControlTypes(t *testing.T) {
	c, p, _ := connectPair(t)
	go echo(p)
	for _, typ := range []transport.MessageType{transport.Ping, transport.Pong, 0, 8} {
		err := c.Write(context.Background(), typ, []byte("x"))
		assert.ErrorIs(t, err, transport.ErrUnsupported, "type %s", typ)
	}
}

func TestWriteWithCancelledContext(t *testing.T) {
	c, p, _ := connectPair(t)
	go echo(p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, c.Write(ctx, transport.Text, []byte("late")), context.Canceled)
	// The connection is untouched.
	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("on time")))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "on time", string(m.Payload))
	assert.NoError(t, c.Err())
}
