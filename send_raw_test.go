package tether_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// TestRawMessagesRoundTrip: a Client[transport.Message] received opcodes
// but sent a transport.Message as JSON text ({"Type":2,"Payload":"AAEC"}).
// Send now writes it as the type it names, so what is received can be
// sent back as it came, and any client can choose text or binary.
func TestRawMessagesRoundTrip(t *testing.T) {
	e := newEnv(t)
	c := client[transport.Message](e)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	msgs := c.Messages(ctx)
	defer msgs.Close()
	sc := e.accept()
	waitState(t, c, fsm.Open)

	sent := []transport.Message{
		{Type: transport.Binary, Payload: []byte{0, 1, 2}},
		{Type: transport.Text, Payload: []byte("héllo")},
		{Type: transport.Binary, Payload: []byte(`{"looks":"like json"}`)},
	}
	for _, m := range sent {
		require.NoError(t, sc.Send(ctx, m.Type, m.Payload))
		got := recv(t, msgs.C())
		assert.Equal(t, m, got)
		require.NoError(t, c.Send(ctx, got), "echo it back")
		back, err := sc.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, m, back, "the same type and bytes, not JSON")
	}

	for _, typ := range []transport.MessageType{transport.Ping, transport.Pong, 0, transport.MessageType(0x8)} {
		require.ErrorIs(t, c.Send(ctx, transport.Message{Type: typ}), tether.ErrUnsendableType, "%v", typ)
	}
	var ue *tether.InvalidUTF8Error
	require.ErrorAs(t, c.Send(ctx, transport.Message{Type: transport.Text, Payload: []byte{0xff}}), &ue)
}
