package integration

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/transport"
)

// TestServerCloseCodeAndReason has ws close with a code and reason: Read
// returns a remote *CloseError carrying both, Err and Done agree, writes are
// refused with ErrClosed, and ws receives our answer with the same code.
func TestServerCloseCodeAndReason(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	for _, tc := range []struct {
		name   string
		code   transport.StatusCode // 0: ws sends a close frame without a code
		reason string
		want   transport.StatusCode // what we read and what ws gets back
	}{
		{"custom", 4001, "bye", 4001},
		{"normal", transport.StatusNormalClosure, "", transport.StatusNormalClosure},
		{"going away UTF-8 reason", transport.StatusGoingAway, "au revoir ✓", transport.StatusGoingAway},
		{"longest reason", 3000, strings.Repeat("r", 123), 3000},
		{"no code", 0, "", transport.StatusNoStatusReceived},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := newID(t)
			var kv []string
			if tc.code != 0 {
				kv = []string{"code", strconv.Itoa(int(tc.code)), "reason", tc.reason}
			}
			c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/close", id, kv...)})

			_, err := c.Read()
			var ce *transport.CloseError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, &transport.CloseError{Code: tc.want, Reason: tc.reason, Remote: true}, ce)
			code, ok := transport.CloseCode(err)
			assert.True(t, ok)
			assert.Equal(t, tc.want, code)

			requireDone(t, c)
			assert.Equal(t, err, c.Err(), "Err reports how the connection ended")
			_, again := c.Read()
			assert.Equal(t, err, again, "Read after the end returns the same error")
			werr := c.Write(context.Background(), transport.Text, []byte("too late"))
			assert.ErrorIs(t, werr, transport.ErrClosed)
			assert.NoError(t, c.Close(transport.StatusNormalClosure, ""), "Close after the end does nothing")

			e := waitEvent(t, p, peer.Is(id, peer.KindClose))
			assert.Equal(t, int(tc.want), e.Code, "ws received our answer with its code")
		})
	}
}

// TestClientCloseCodeAndReason closes with a code and reason: ws receives
// both, and answers, which ends the connection with a local *CloseError.
// With no Read in progress, Close reads the answer itself; with a pending
// Read, that reader sees the answer and returns the same error.
func TestClientCloseCodeAndReason(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	want := &transport.CloseError{Code: 4002, Reason: "client bye"}

	t.Run("no reader", func(t *testing.T) {
		t.Parallel()
		id := newID(t)
		c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/closeecho", id)})
		require.NoError(t, c.Close(4002, "client bye"))
		requireDone(t, c)
		var ce *transport.CloseError
		require.ErrorAs(t, c.Err(), &ce)
		assert.Equal(t, want, ce)

		e := waitEvent(t, p, peer.Is(id, peer.KindClose))
		assert.Equal(t, 4002, e.Code)
		assert.Equal(t, "client bye", e.Reason)
	})

	t.Run("pending read", func(t *testing.T) {
		t.Parallel()
		id := newID(t)
		c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/closeecho", id)})
		readErr := make(chan error, 1)
		go func() {
			_, err := c.Read()
			readErr <- err
		}()
		require.NoError(t, c.Close(4002, "client bye"))
		err := <-readErr // Close returned: the reader has been released
		var ce *transport.CloseError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, want, ce)
		assert.Equal(t, err, c.Err())

		e := waitEvent(t, p, peer.Is(id, peer.KindClose))
		assert.Equal(t, 4002, e.Code)
		assert.Equal(t, "client bye", e.Reason)
	})
}

// TestClientAbortSendsNoCloseFrame closes with 1006, a code that may not go
// on the wire: the socket is dropped without a close frame, so ws reports
// an abnormal closure (1006) of its own.
func TestClientAbortSendsNoCloseFrame(t *testing.T) {
	t.Parallel()
	p := peer.StartT(t)
	id := newID(t)
	c := dial(t, newTransport(t), transport.Target{URL: peerURL(p, "/closeecho", id)})
	require.NoError(t, c.Close(transport.StatusAbnormalClosure, ""))
	code, ok := transport.CloseCode(c.Err())
	require.True(t, ok)
	assert.Equal(t, transport.StatusAbnormalClosure, code)

	e := waitEvent(t, p, peer.Is(id, peer.KindClose))
	assert.Equal(t, int(transport.StatusAbnormalClosure), e.Code)
	assert.Empty(t, e.Reason)
}

// requireDone requires c to have ended (Done closed) by now: the callers
// have already seen the end through Read or Close.
func requireDone(t testing.TB, c transport.Conn) {
	t.Helper()
	select {
	case <-c.Done():
	default:
		require.Fail(t, "Done is not closed after the connection ended")
	}
	require.Error(t, c.Err())
	require.False(t, errors.Is(c.Err(), transport.ErrTimeout), "the close handshake completed in time: %v", c.Err())
}
