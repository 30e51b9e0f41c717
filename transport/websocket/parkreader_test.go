package websocket

import (
	"bytes"
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

// TestReadableWaiterOnTCP: the waiter returns when bytes arrive, without
// consuming them, and a closed connection ends the wait.
func TestReadableWaiterOnTCP(t *testing.T) {
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
	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	server := <-accepted
	require.NotNil(t, server)
	defer server.Close()

	wait := readableWaiter(client)
	require.NotNil(t, wait, "TCP connections can be waited on")
	done := make(chan error, 1)
	go func() { done <- wait() }()
	_, err = server.Write([]byte("hi"))
	require.NoError(t, err)
	require.NoError(t, <-done)
	buf := make([]byte, 2)
	_, err = io.ReadFull(client, buf)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(buf), "the wait consumed nothing")

	go func() { done <- wait() }()
	require.NoError(t, client.Close())
	assert.Error(t, <-done, "closing the connection ends the wait")

	assert.Nil(t, readableWaiter(&discardConn{}), "a connection without a socket cannot be waited on")
}
