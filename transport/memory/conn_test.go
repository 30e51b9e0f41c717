package memory_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

func TestSendReadInOrder(t *testing.T) {
	c, sc := newPipe(t)
	ctx := testCtx(t)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("one")))
	require.NoError(t, sc.Send(ctx, transport.Binary, []byte{0, 1, 2}))
	require.NoError(t, sc.Send(ctx, transport.Text, nil))

	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Text, Payload: []byte("one")}, m)
	m, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Binary, Payload: []byte{0, 1, 2}}, m)
	m, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Text, m.Type)
	assert.Empty(t, m.Payload)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestReadWaitsForAMessage(t *testing.T) {
	c, sc := newPipe(t)
	res := readAsync(c)
	require.NoError(t, sc.Send(testCtx(t), transport.Text, []byte("late")))
	r := recv(t, res)
	require.NoError(t, r.err)
	assert.Equal(t, "late", string(r.msg.Payload))
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestSendDoesNotRetainPayload(t *testing.T) {
	c, sc := newPipe(t)
	p := []byte("abc")
	require.NoError(t, sc.Send(testCtx(t), transport.Text, p))
	p[0] = 'X'
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "abc", string(m.Payload))

	w := []byte("xyz")
	require.NoError(t, c.Write(testCtx(t), transport.Binary, w))
	w[0] = 'Q'
	got, err := sc.Recv(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Binary, Payload: []byte("xyz")}, got)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestReadBorrowsReadOwnedCopies(t *testing.T) {
	c, sc := newPipe(t)
	ctx := testCtx(t)
	for _, s := range []string{"first", "secnd", "third"} {
		require.NoError(t, sc.Send(ctx, transport.Text, []byte(s)))
	}

	borrowed, err := c.Read()
	require.NoError(t, err)
	require.Equal(t, "first", string(borrowed.Payload))
	owned, err := transport.ReadOwned(c)
	require.NoError(t, err)
	require.Equal(t, "secnd", string(owned.Payload))
	// The borrowed payload was reused by the next Read; the owned one stays.
	assert.Equal(t, "secnd", string(borrowed.Payload))

	_, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, "secnd", string(owned.Payload))
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestWriteRejectsControlTypes(t *testing.T) {
	c, sc := newPipe(t)
	ctx := testCtx(t)
	require.ErrorIs(t, c.Write(ctx, transport.Ping, nil), transport.ErrUnsupported)
	require.ErrorIs(t, sc.Send(ctx, transport.Pong, nil), transport.ErrUnsupported)
	require.ErrorIs(t, sc.SendFragmented(ctx, transport.Ping, nil, 2), transport.ErrUnsupported)
	require.ErrorIs(t, c.Ping(ctx, make([]byte, 126)), transport.ErrProtocol)
	require.ErrorIs(t, sc.Ping(ctx, make([]byte, 126)), transport.ErrProtocol)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestWriteHonoursEndedCtx(t *testing.T) {
	c, _ := newPipe(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, c.Write(ctx, transport.Text, nil), context.Canceled)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestConcurrentWritersKeepTheirOrder(t *testing.T) {
	const writers, each = 8, 300 // more than the queue holds: writers block
	c, sc := newPipe(t, memory.WithQueueLimit(64))
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				assert.NoError(t, c.Write(ctx, transport.Text, fmt.Appendf(nil, "%d:%d", w, i)))
			}
		})
	}
	next := make([]int, writers)
	for range writers * each {
		m, err := sc.Recv(ctx)
		require.NoError(t, err)
		ws, is, ok := strings.Cut(string(m.Payload), ":")
		require.True(t, ok)
		w, _ := strconv.Atoi(ws)
		i, _ := strconv.Atoi(is)
		require.Equal(t, next[w], i, "writer %d out of order", w)
		next[w]++
	}
	wg.Wait()
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestBackpressureBothWays(t *testing.T) {
	c, sc := newPipe(t, memory.WithQueueLimit(2))
	ctx := testCtx(t)

	// Client to server: the third write waits for room.
	require.NoError(t, c.Write(ctx, transport.Text, []byte("1")))
	require.NoError(t, c.Write(ctx, transport.Text, []byte("2")))
	require.ErrorIs(t, c.Write(shortCtx(t), transport.Text, []byte("x")), context.DeadlineExceeded)
	done := make(chan error, 1)
	go func() { done <- c.Write(ctx, transport.Text, []byte("3")) }()
	m, err := sc.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "1", string(m.Payload))
	require.NoError(t, recv(t, done))
	for _, want := range []string{"2", "3"} {
		m, err := sc.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, want, string(m.Payload))
	}

	// Server to client: the same.
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("a")))
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("b")))
	require.ErrorIs(t, sc.Send(shortCtx(t), transport.Text, []byte("x")), context.DeadlineExceeded)
	go func() { done <- sc.Send(ctx, transport.Text, []byte("c")) }()
	m, err = c.Read()
	require.NoError(t, err)
	require.Equal(t, "a", string(m.Payload))
	require.NoError(t, recv(t, done))
	for _, want := range []string{"b", "c"} {
		m, err := c.Read()
		require.NoError(t, err)
		require.Equal(t, want, string(m.Payload))
	}
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestClientPing(t *testing.T) {
	c, sc := newPipe(t)
	ctx := testCtx(t)
	require.NoError(t, c.Ping(ctx, []byte("p1")))

	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Pong, Payload: []byte("p1")}, m)
	got, err := sc.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Ping, Payload: []byte("p1")}, got)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestServerPing(t *testing.T) {
	c, sc := newPipe(t)
	ctx := testCtx(t)
	require.NoError(t, sc.Ping(ctx, []byte("hb")))
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("after")))

	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Ping, Payload: []byte("hb")}, m)
	got, err := sc.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Pong, Payload: []byte("hb")}, got, "the client answered before Read returned")

	m, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, "after", string(m.Payload))
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestSendFragmented(t *testing.T) {
	c, sc := newPipe(t, memory.WithQueueLimit(2))
	ctx := testCtx(t)
	payload := []byte("hello, fragmented world")
	// More parts than the queue holds still go through an empty queue.
	require.NoError(t, sc.SendFragmented(ctx, transport.Text, payload, 5))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Text, Payload: payload}, m)

	require.NoError(t, sc.SendFragmented(ctx, transport.Binary, []byte{1, 2}, 0))
	m, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Binary, Payload: []byte{1, 2}}, m)

	require.NoError(t, sc.SendFragmented(ctx, transport.Binary, []byte{7}, 3)) // empty parts
	m, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, []byte{7}, m.Payload)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestMessageTooLarge(t *testing.T) {
	for _, parts := range []int{1, 3} {
		t.Run(strconv.Itoa(parts), func(t *testing.T) {
			c, sc := newPipe(t, memory.WithMaxMessageSize(10))
			ctx := testCtx(t)
			require.NoError(t, sc.SendFragmented(ctx, transport.Binary, make([]byte, 10), parts))
			m, err := c.Read()
			require.NoError(t, err, "the limit itself is allowed")
			require.Len(t, m.Payload, 10)

			require.NoError(t, sc.SendFragmented(ctx, transport.Binary, make([]byte, 11), parts))
			_, err = c.Read()
			ce := requireClose(t, err, transport.StatusMessageTooBig, "", false)
			require.ErrorIs(t, err, transport.ErrMessageTooLarge)
			require.Same(t, ce, c.Err())
			require.True(t, closed(c.Done()))
			_, again := c.Read()
			require.Same(t, ce, again)

			_, err = sc.Recv(ctx)
			requireClose(t, err, transport.StatusMessageTooBig, "", true)
			recv(t, sc.Done())
			requireClose(t, sc.Err(), transport.StatusMessageTooBig, "", true)
			require.NoError(t, c.Close(transport.StatusNormalClosure, ""), "Close after the end does nothing")
		})
	}
}

func TestInvalidUTF8(t *testing.T) {
	c, sc := newPipe(t)
	ctx := testCtx(t)
	require.NoError(t, sc.Send(ctx, transport.Binary, []byte{0xff}), "binary is not checked")
	_, err := c.Read()
	require.NoError(t, err)

	require.NoError(t, sc.SendFragmented(ctx, transport.Text, []byte("ok \xe2\x82"), 2))
	_, err = c.Read()
	requireClose(t, err, transport.StatusInvalidPayloadData, "", false)
	require.ErrorIs(t, err, transport.ErrInvalidUTF8)
	_, err = sc.Recv(ctx)
	requireClose(t, err, transport.StatusInvalidPayloadData, "", true)
}

func TestDefaultMaxMessageSize(t *testing.T) {
	c, sc := newPipe(t)
	ctx := testCtx(t)
	require.NoError(t, sc.Send(ctx, transport.Binary, make([]byte, memory.DefaultMaxMessageSize+1)))
	_, err := c.Read()
	require.ErrorIs(t, err, transport.ErrMessageTooLarge)
}
