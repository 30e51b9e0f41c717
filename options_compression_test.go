package tether_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"io"
	"net"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/transport/memory"
	"github.com/tether-go/tether/transport/websocket"
)

// TestClientCompression: WithCompression offers permessage-deflate on the
// default transport: a message the Client sends arrives compressed (RSV1
// set, the payload inflates to it), and a compressed message from the
// server reaches the subscriber inflated.
func TestClientCompression(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan []byte, 1)
	served := make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		e := &wsflate.Extension{Parameters: wsflate.Parameters{ClientNoContextTakeover: true, ServerNoContextTakeover: true}}
		if _, err := (&ws.Upgrader{Negotiate: e.Negotiate}).Upgrade(c); err != nil {
			return
		}
		// Send a compressed message, then read the client's.
		z, err := wsflate.DefaultHelper.Compress([]byte("from the server"))
		if err != nil {
			return
		}
		f := ws.NewTextFrame(z)
		f.Header.Rsv = ws.Rsv(true, false, false)
		if ws.WriteFrame(c, f) != nil {
			return
		}
		br := bufio.NewReader(c)
		for {
			h, err := ws.ReadHeader(br)
			if err != nil {
				return
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(br, p); err != nil {
				return
			}
			ws.Cipher(p, h.Mask, 0)
			if h.OpCode != ws.OpText {
				continue
			}
			if r1, _, _ := ws.RsvBits(h.Rsv); !r1 {
				got <- nil // not compressed
				return
			}
			out, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(p),
				bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))))
			if err != nil {
				return
			}
			got <- out
			return
		}
	}()

	c, err := tether.New[string]("ws://"+ln.Addr().String()+"/",
		tether.WithCompression(websocket.Compression{}), tether.WithoutHeartbeat(), tether.WithAutoConnect(false))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	msgs := c.Messages(ctx).C()
	require.NoError(t, c.Connect(ctx))
	select {
	case m := <-msgs:
		assert.Equal(t, "from the server", m)
	case <-ctx.Done():
		require.FailNow(t, "no message")
	}
	long := string(bytes.Repeat([]byte("compress me "), 20))
	require.NoError(t, c.Send(ctx, long))
	select {
	case b := <-got:
		assert.Equal(t, long, string(b), "sent compressed")
	case <-ctx.Done():
		require.FailNow(t, "the server got nothing")
	}
	require.NoError(t, c.Close(ctx))
	<-served
}

// TestClientCompressionOptionErrors: a configuration out of range, and
// WithCompression beside WithTransport, are *OptionErrors of New.
func TestClientCompressionOptionErrors(t *testing.T) {
	_, err := tether.New[string]("ws://example.invalid/",
		tether.WithCompression(websocket.Compression{Level: 42}), tether.WithAutoConnect(false))
	var oe *tether.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "WithCompression", oe.Option)
	require.ErrorIs(t, err, websocket.ErrInvalidOption)

	mem, err := memory.NewServer()
	require.NoError(t, err)
	_, err = tether.New[string]("ws://example.invalid/", tether.WithTransport(mem.Transport()),
		tether.WithCompression(websocket.Compression{}), tether.WithAutoConnect(false))
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "WithCompression", oe.Option)
}
