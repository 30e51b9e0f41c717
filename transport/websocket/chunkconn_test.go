package websocket

import (
	"bufio"
	"bytes"
	"net"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// chunkConn is a net.Conn whose reads return what the test feeds it, one
// chunk per read (or as much of it as fits, the rest on the next read),
// and wait while nothing is fed, as a socket waits between segments. It
// cannot be waited on without reading, so the connection keeps its read
// buffer. Writes are collected (see memConn.written). Close ends pending and
// later reads with net.ErrClosed.
type chunkConn struct {
	memConn
	chunks chan []byte
	shut   chan struct{}
	once   sync.Once
	rest   []byte // used by the reading goroutine only
}

func newChunkConn() *chunkConn {
	return &chunkConn{chunks: make(chan []byte, 64), shut: make(chan struct{})}
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.rest) == 0 {
		select {
		case c.rest = <-c.chunks:
		case <-c.shut:
			return 0, net.ErrClosed
		}
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

func (c *chunkConn) Close() error {
	c.once.Do(func() { close(c.shut) })
	return c.memConn.Close()
}

// feed hands the bytes of each chunk to one read, in order.
func (c *chunkConn) feed(chunks ...[]byte) {
	for _, b := range chunks {
		c.chunks <- b
	}
}

// newChunkClient returns a client conn over a chunkConn, with options
// adjusted by tune (which may be nil) and with handshake bytes in br when
// extra is not empty. The conn is aborted at cleanup, which ends any Read
// still waiting.
func newChunkClient(t *testing.T, tune func(*options), extra []byte) (*conn, *chunkConn) {
	t.Helper()
	o := defaultOptions()
	if tune != nil {
		tune(&o)
	}
	require.NoError(t, o.resolve())
	nc := newChunkConn()
	var br *bufio.Reader
	if len(extra) > 0 {
		br = bufio.NewReaderSize(bytes.NewReader(extra), len(extra))
		_, err := br.Peek(len(extra))
		require.NoError(t, err)
	}
	c := newConn(nc, br, &o, "")
	t.Cleanup(func() { _ = c.Close(transport.StatusAbnormalClosure, "") })
	return c, nc
}

// encode returns one unmasked server frame.
func encode(op ws.OpCode, fin bool, payload []byte) []byte {
	var b bytes.Buffer
	if err := ws.WriteFrame(&b, ws.NewFrame(op, fin, payload)); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	return b.Bytes()
}

// cat joins byte slices into a new one.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
