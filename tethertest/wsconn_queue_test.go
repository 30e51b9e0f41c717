package tethertest_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// sendNumbered writes n numbered binary messages on c, then a ping.
func sendNumbered(ctx context.Context, t *testing.T, c transport.Conn, n int) {
	t.Helper()
	for i := range n {
		require.NoError(t, c.Write(ctx, transport.Binary, []byte(strconv.Itoa(i))))
	}
	require.NoError(t, c.Ping(ctx, []byte("mark")))
}

// recvNumbered receives n messages and checks they are 0..n-1 in order.
func recvNumbered(ctx context.Context, t *testing.T, sc *tethertest.WSConn, n int) {
	t.Helper()
	for i := range n {
		m, err := sc.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(i), string(m.Payload), "message %d", i)
	}
}

// By default a connection whose test does not keep up discards what does
// not fit in its queue, and says how many: a test counting what the server
// received can tell a loss of the kit's from one of the client's.
func TestFullRecvQueueDiscardsAndCounts(t *testing.T) {
	srv := tethertest.NewWSServer()
	defer srv.Close()
	c := dial(t, srv.URL)
	defer c.Close(transport.StatusNormalClosure, "")
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)

	const extra = 500
	sendNumbered(ctx, t, c, tethertest.RecvQueue+extra)
	m, err := c.Read() // the pong: the server has read everything before the ping
	require.NoError(t, err)
	require.Equal(t, transport.Pong, m.Type)
	assert.EqualValues(t, extra, sc.Discarded())

	recvNumbered(ctx, t, sc, tethertest.RecvQueue)
	require.NoError(t, c.Write(ctx, transport.Text, []byte("after")))
	m, err = sc.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "after", string(m.Payload), "the discarded ones are gone, the next one queues")
}

// With WithRecvBackpressure the reader waits for Recv: nothing is
// discarded, and everything arrives in order.
func TestRecvBackpressureLosesNothing(t *testing.T) {
	srv := tethertest.NewWSServer(tethertest.WithRecvBackpressure())
	defer srv.Close()
	c := dial(t, srv.URL)
	defer c.Close(transport.StatusNormalClosure, "")
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)

	const n = 3*tethertest.RecvQueue + 7
	sendNumbered(ctx, t, c, n)
	recvNumbered(ctx, t, sc, n)
	m, err := c.Read() // the pong, once the reader got past the queue
	require.NoError(t, err)
	require.Equal(t, transport.Pong, m.Type)
	assert.Zero(t, sc.Discarded())
}
