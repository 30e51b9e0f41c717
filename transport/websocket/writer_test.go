package websocket

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// connectCounting dials through a connection that counts network writes.
func connectCounting(t *testing.T) (*conn, *countingConn, *peer) {
	t.Helper()
	s := newServer(t)
	cc := make(chan *countingConn, 1)
	tr := newTransport(t, WithProxy(nil), WithNetDial(func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		counted := &countingConn{Conn: c}
		cc <- counted
		return counted, nil
	}))
	c := dial(t, tr, transport.Target{URL: s.url})
	counted := <-cc
	counted.writes.Store(0) // the handshake does not count
	return c.(*conn), counted, s.next()
}

func TestWritesCoalesceWhileAnotherWriterIsPending(t *testing.T) {
	c, counted, p := connectCounting(t)
	// Stand in for a writer waiting for its turn: every holder leaves its
	// bytes for it and does not flush.
	c.w.pending.Add(1)
	for i := range 10 {
		require.NoError(t, c.Write(context.Background(), transport.Text, []byte{byte('0' + i)}))
	}
	assert.Equal(t, int64(0), counted.writes.Load(), "no flush while a writer is pending")
	// The stand-in gives up: the flush is handed on, and all ten frames go
	// out in one write.
	c.w.abandon()
	for i := range 10 {
		f, err := p.read()
		require.NoError(t, err)
		assert.Equal(t, []byte{byte('0' + i)}, f.payload)
	}
	assert.Equal(t, int64(1), counted.writes.Load(), "one write for the whole batch")
	go echo(p)
}

func TestOwedPongIsSentByTheHolder(t *testing.T) {
	c, _, p := connectCounting(t)
	// Hold the writer as a slow Write would; a ping read meanwhile must
	// not block the reader.
	c.w.lock <- struct{}{}
	require.NoError(t, p.write(ws.OpPing, true, []byte("owed")))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Ping, m.Type)
	assert.True(t, c.w.owedPong.Load())
	// Releasing the writer sends the pong.
	c.w.release()
	f, err := p.read()
	require.NoError(t, err)
	assert.Equal(t, ws.OpPong, f.op)
	assert.Equal(t, "owed", string(f.payload))
	go echo(p)
}

func TestWriteGivesUpWaitingForItsTurn(t *testing.T) {
	c, _, p := connectCounting(t)
	go echo(p)
	c.w.lock <- struct{}{} // a stuck writer
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Write(ctx, transport.Text, []byte("late"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	<-c.w.lock
	// The connection still works.
	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("fine")))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "fine", string(m.Payload))
}

func TestCloseGivesUpWaitingForTheWriter(t *testing.T) {
	c, _, p := connectCounting(t)
	c.w.lock <- struct{}{} // a writer stuck on a peer that does not read
	c.opts = &options{closeTimeout: 100 * time.Millisecond}
	err := c.Close(transport.StatusNormalClosure, "")
	require.ErrorIs(t, err, transport.ErrTimeout)
	waitDone(t, c)
	<-c.w.lock
	p.conn.Close()
}

// failingConn fails every write, as a reset connection does.
type failingConn struct{ memConn }

var errBoom = errors.New("connection reset by test")

func (*failingConn) Write([]byte) (int, error) { return 0, errBoom }

func TestWriteFailureEndsTheConnection(t *testing.T) {
	o := defaultOptions()
	require.NoError(t, o.resolve())
	c := newConn(&failingConn{memConn{in: bytes.NewReader(nil)}}, nil, &o, "")
	err := c.Write(context.Background(), transport.Text, []byte("lost"))
	require.ErrorIs(t, err, errBoom)
	assert.NotErrorIs(t, err, transport.ErrClosed, "bytes may have gone out: not ErrClosed")
	waitDone(t, c)
	ce := closeErr(t, c.Err())
	assert.Equal(t, transport.StatusAbnormalClosure, ce.Code)
	assert.ErrorIs(t, ce, errBoom)
	// Now nothing more is written.
	assert.ErrorIs(t, c.Write(context.Background(), transport.Text, []byte("x")), transport.ErrClosed)
	_, err = c.Read()
	assert.Equal(t, c.Err(), err)
	assert.NoError(t, c.Close(1000, ""))
}
