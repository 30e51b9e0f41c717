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

// A text message that is not valid UTF-8 is refused with a typed error
// before anything is written or queued (RFC 6455 section 5.6); the same
// bytes as []byte go out as a binary message.
func TestSendRefusesInvalidUTF8Text(t *testing.T) {
	e := newEnv(t)
	c := client[Reading](e, tether.WithAutoConnect(false))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	check := func(err error) {
		t.Helper()
		require.ErrorIs(t, err, tether.ErrInvalidUTF8)
		var ue *tether.InvalidUTF8Error
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, tether.InvalidUTF8Error{Offset: 2, Len: 5}, *ue)
	}
	check(c.Send(ctx, "ok\xffno")) // while not connected: not queued either
	n, _ := c.Buffered()
	require.Zero(t, n)

	require.NoError(t, c.Connect(ctx))
	waitState(t, c, fsm.Open)
	sc := e.accept()
	check(c.Send(ctx, "ok\xffno"))
	require.NoError(t, c.Send(ctx, []byte("ok\xffno")))
	require.NoError(t, c.Send(ctx, "after ✓"))
	for _, want := range []transport.Message{
		{Type: transport.Binary, Payload: []byte("ok\xffno")},
		{Type: transport.Text, Payload: []byte("after ✓")},
	} {
		got, err := sc.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	assert.Equal(t, fsm.Open, c.State())
}
