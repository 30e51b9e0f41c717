package memory_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// readAll reads until the end and returns the payloads read and the end.
func readAll(t *testing.T, c transport.Conn) (got []string, end error) {
	t.Helper()
	for range 100 {
		m, err := c.Read()
		if err != nil {
			return got, err
		}
		got = append(got, string(m.Payload))
	}
	require.FailNow(t, "Read never ended")
	return nil, nil
}

// TestCloseKeepsUnreadMessages: what the server sent and the client has
// not read when its Close completes is still read, then the end. Close
// used to drop it.
func TestCloseKeepsUnreadMessages(t *testing.T) {
	c, sc := newPipe(t)
	ctx := testCtx(t)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("one")))
	require.NoError(t, sc.SendFragmented(ctx, transport.Binary, []byte("two in parts"), 3))
	require.NoError(t, sc.Ping(ctx, []byte("ping")))
	require.NoError(t, c.Close(transport.StatusGoingAway, "bye"))
	require.True(t, closed(c.Done()))

	got, end := readAll(t, c)
	assert.Equal(t, []string{"one", "two in parts"}, got, "the data, not the ping")
	requireClose(t, end, transport.StatusGoingAway, "bye", false)
	assert.Same(t, c.Err(), end)
	assert.Zero(t, transport.DiscardsOf(c).Discarded())
}

// TestCloseDeliversMessagesBeforeTheAnswer: with the answer held back, a
// pending Read returns what the server sends between the close frames,
// then the local close once it answers.
func TestCloseDeliversMessagesBeforeTheAnswer(t *testing.T) {
	c, sc := newPipe(t)
	sc.HoldClose()
	ctx := testCtx(t)
	first := readAsync(c)
	done := make(chan error, 1)
	go func() { done <- c.Close(4000, "client") }()
	_, err := sc.Recv(ctx)
	requireClose(t, err, 4000, "client", true)

	require.NoError(t, sc.Send(ctx, transport.Text, []byte("late")))
	r := recv(t, first)
	require.NoError(t, r.err)
	assert.Equal(t, "late", string(r.msg.Payload))
	require.NoError(t, sc.SendFragmented(ctx, transport.Text, []byte("later, in parts"), 2))
	sc.Close(transport.StatusNormalClosure, "")
	require.NoError(t, recv(t, done))

	got, end := readAll(t, c)
	assert.Equal(t, []string{"later, in parts"}, got)
	requireClose(t, end, 4000, "client", false)
	requireClose(t, sc.Err(), 4000, "client", true)
}

// TestCloseThrowsAwayWhatReadWouldRefuse: a kept message Read would refuse
// (too large, or text that is not UTF-8) is thrown away at the end, with
// those after it, and counted by the time Close returns; Read would have
// failed the connection over it.
func TestCloseThrowsAwayWhatReadWouldRefuse(t *testing.T) {
	for name, bad := range map[string][]byte{"too large": []byte(strings.Repeat("x", 11)), "invalid UTF-8": {'o', 0xff}} {
		t.Run(name, func(t *testing.T) {
			c, sc := newPipe(t, memory.WithMaxMessageSize(10))
			ctx := testCtx(t)
			require.NoError(t, sc.Send(ctx, transport.Text, []byte("ok")))
			require.NoError(t, sc.SendFragmented(ctx, transport.Text, bad, 2))
			require.NoError(t, sc.SendFragmented(ctx, transport.Binary, []byte("after"), 2))
			require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
			assert.Equal(t, uint64(2), transport.DiscardsOf(c).Discarded(), "counted at the end")

			got, end := readAll(t, c)
			assert.Equal(t, []string{"ok"}, got)
			requireClose(t, end, transport.StatusNormalClosure, "", false)
			assert.Equal(t, uint64(2), transport.DiscardsOf(c).Discarded(), "and no more")
		})
	}
}

// TestAbortDropsUnreadMessages: an abort (1006) is no handshake: what the
// server sent is dropped with the connection, as with a drop.
func TestAbortDropsUnreadMessages(t *testing.T) {
	c, sc := newPipe(t)
	require.NoError(t, sc.Send(testCtx(t), transport.Text, []byte("lost")))
	require.NoError(t, c.Close(transport.StatusAbnormalClosure, ""))
	_, err := c.Read()
	requireClose(t, err, transport.StatusAbnormalClosure, "", false)
}
