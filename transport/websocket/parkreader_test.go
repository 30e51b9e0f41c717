package websocket

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParkReaderHoldsNoBufferWhileWaiting: every wait for the network
// happens with the buffer parked, and the bytes come through whole.
func TestParkReaderHoldsNoBufferWhileWaiting(t *testing.T) {
	// HalfReader gives partial reads, as a socket that drains does.
	src := iotest.HalfReader(bytes.NewReader(bytes.Repeat([]byte("0123456789"), 100)))
	var p *parkReader
	waits := 0
	p = newParkReader(src, func() error {
		waits++
		assert.Nil(t, p.buf, "the buffer is parked before waiting")
		return nil
	}, 64)
	var got []byte
	chunk := make([]byte, 10) // small reads, served from the buffer
	for {
		n, err := p.Read(chunk)
		got = append(got, chunk[:n]...)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	assert.Equal(t, 1000, len(got))
	assert.Equal(t, bytes.Repeat([]byte("0123456789"), 100), got)
	assert.Greater(t, waits, 1)
	assert.Nil(t, p.buf, "parked at the end of the stream")

	p = newParkReader(bytes.NewReader(make([]byte, 500)), func() error { return nil }, 64)
	n, err := p.Discard(300)
	require.NoError(t, err)
	assert.Equal(t, 300, n)
	rest, err := io.ReadAll(p)
	require.NoError(t, err)
	assert.Len(t, rest, 200)
}

// tcpPair returns both ends of a loopback TCP connection, closed at the
// end of the test.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	server = <-accepted
	require.NotNil(t, server)
	t.Cleanup(func() { _ = server.Close() })
	return client, server
}

// TestTryReadOnTCP: a read without waiting reports an empty socket as not
// done and consumes nothing; the socket then stays cold (declines without
// looking) until a wait finds bytes already there; it returns what
// arrived, io.EOF once the peer has closed, and an error after the
// connection itself was closed.
func TestTryReadOnTCP(t *testing.T) {
	client, server := tcpPair(t)
	wait, try := socketOf(client)
	require.NotNil(t, try, "TCP connections can be read without waiting")
	buf := make([]byte, 16)
	n, err, done := try(buf)
	assert.False(t, done, "nothing has arrived")
	assert.Zero(t, n)
	require.NoError(t, err)

	_, err = server.Write([]byte("hi"))
	require.NoError(t, err)
	_, err, done = try(buf)
	assert.False(t, done, "cold: the socket was empty last time, so it does not look")
	require.NoError(t, err)
	require.NoError(t, wait()) // returns once "hi" is there
	require.NoError(t, wait()) // finds it at once: the socket warms up
	n, err, done = try(buf)
	require.True(t, done)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(buf[:n]), "nothing was consumed by the declined read or the waits")

	require.NoError(t, server.Close())
	require.NoError(t, wait())
	require.NoError(t, wait())
	_, err, done = try(buf)
	assert.True(t, done)
	assert.ErrorIs(t, err, io.EOF, "the peer closed")

	require.NoError(t, client.Close())
	_, err, done = try(buf)
	assert.True(t, done)
	assert.ErrorIs(t, err, net.ErrClosed)
}

// TestReadableWaiterOnTCP: the waiter returns when bytes arrive, without
// consuming them, and a closed connection ends the wait.
func TestReadableWaiterOnTCP(t *testing.T) {
	client, server := tcpPair(t)

	wait, _ := socketOf(client)
	require.NotNil(t, wait, "TCP connections can be waited on")
	done := make(chan error, 1)
	go func() { done <- wait() }()
	_, err := server.Write([]byte("hi"))
	require.NoError(t, err)
	require.NoError(t, <-done)
	buf := make([]byte, 2)
	_, err = io.ReadFull(client, buf)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(buf), "the wait consumed nothing")

	go func() { done <- wait() }()
	require.NoError(t, client.Close())
	assert.Error(t, <-done, "closing the connection ends the wait")

	w, try := socketOf(&discardConn{})
	assert.Nil(t, w, "a connection without a socket cannot be waited on")
	assert.Nil(t, try, "nor read without waiting")
}

// plainConn hides the socket of a net.Conn: only net.Conn's methods are
// left, as for a connection a custom NetDial returns.
type plainConn struct{ net.Conn }

// TestDefaultReadBufferDependsOnParking: a connection that parks its read
// buffer while idle gets the larger default; one that must keep it for its
// life gets 4 KiB; an explicit size wins either way.
func TestDefaultReadBufferDependsOnParking(t *testing.T) {
	var d net.Dialer
	plain := WithNetDial(func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return plainConn{c}, nil
	})
	for _, tc := range []struct {
		name string
		opts []Option
		want int32
	}{
		{"socket", nil, DefaultReadBufferSize},
		{"not a socket", []Option{plain}, DefaultBufferSize},
		{"socket, set", []Option{WithReadBufferSize(1000)}, 1000},
		{"not a socket, set", []Option{plain, WithReadBufferSize(1000)}, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p, _ := connectPair(t, append([]Option{WithProxy(nil)}, tc.opts...)...)
			go echo(p)
			assert.Equal(t, tc.want, c.(*conn).rd.size)
		})
	}
}
