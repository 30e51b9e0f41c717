package websocket

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// TestBadAnswerIsTyped: a 101 answer that breaks the protocol matches
// transport.ErrBadHandshake, and the text names the header at fault.
func TestBadAnswerIsTyped(t *testing.T) {
	const (
		upgrade    = "Upgrade: websocket\r\n"
		connection = "Connection: Upgrade\r\n"
		accept     = "Sec-WebSocket-Accept: " + acceptMark + "\r\n"
	)
	for _, tc := range []struct {
		name    string
		headers string // after the status line; acceptMark is the right accept value
		offered []string
		names   string // the header the text must name
		subprot bool   // the error also matches transport.ErrSubprotocol
	}{
		{
			name:    "wrong Sec-WebSocket-Accept",
			headers: upgrade + connection + "Sec-WebSocket-Accept: bm9wZQ==\r\n",
			names:   "Sec-WebSocket-Accept",
		},
		{
			name:    "missing Sec-WebSocket-Accept",
			headers: upgrade + connection,
			names:   "Sec-WebSocket-Accept",
		},
		{
			name:    "missing Upgrade",
			headers: connection + accept,
			names:   "Upgrade header",
		},
		{
			name:    "wrong Upgrade",
			headers: "Upgrade: h2c\r\n" + connection + accept,
			names:   "Upgrade header",
		},
		{
			name:    "missing Connection",
			headers: upgrade + accept,
			names:   "Connection header",
		},
		{
			name:    "wrong Connection",
			headers: upgrade + "Connection: close\r\n" + accept,
			names:   "Connection header",
		},
		{
			name:    "extension not offered",
			headers: upgrade + connection + accept + "Sec-WebSocket-Extensions: permessage-deflate\r\n",
			names:   "Sec-WebSocket-Extensions",
		},
		{
			name:    "subprotocol not offered",
			headers: upgrade + connection + accept + "Sec-WebSocket-Protocol: other\r\n",
			offered: []string{"v1"},
			names:   "Sec-WebSocket-Protocol",
			subprot: true,
		},
		{
			name:    "subprotocol when none was offered",
			headers: upgrade + connection + accept + "Sec-WebSocket-Protocol: other\r\n",
			names:   "Sec-WebSocket-Protocol",
			subprot: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRawServer(t, func(_ *http.Request, accept string) []byte {
				return []byte("HTTP/1.1 101 Switching Protocols\r\n" + strings.ReplaceAll(tc.headers, acceptMark, accept) + "\r\n")
			})
			err := dialErr(t, newTransport(t), transport.Target{URL: s.url, Subprotocols: tc.offered})
			require.ErrorIs(t, err, transport.ErrBadHandshake)
			var he *transport.HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, http.StatusSwitchingProtocols, he.StatusCode, "the server switched, then broke the protocol")
			assert.Contains(t, err.Error(), "handshake failed", "not refused")
			assert.Contains(t, err.Error(), tc.names)
			if tc.names != "Sec-WebSocket-Protocol" {
				assert.NotContains(t, err.Error(), "Sec-WebSocket-Protocol", "the text names the wrong header")
			}
			assert.Equal(t, tc.subprot, errors.Is(err, transport.ErrSubprotocol))
			assert.NotErrorIs(t, err, transport.ErrCertificate)
		})
	}
}

// TestServerClosesDuringHandshake: a server that closes the connection
// before the end of its 101 answer gives an error matching
// io.ErrUnexpectedEOF that says what happened, and no bad handshake (a
// restarting server does this: a retry is right).
func TestServerClosesDuringHandshake(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
	}{
		{
			name:   "before answering",
			answer: "",
		},
		{
			name:   "in the status line",
			answer: "HTTP/1.1 10",
		},
		{
			name:   "in the headers of a 101",
			answer: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConn",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRawServer(t, func(*http.Request, string) []byte { return []byte(tc.answer) })
			stop, closed := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(closed)
				select {
				case sc := <-s.conns:
					sc.Close() // after the answer: a FIN, as a server going down sends
				case <-stop:
				}
			}()
			defer func() {
				close(stop)
				<-closed
			}()
			err := dialErr(t, newTransport(t), transport.Target{URL: s.url})
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.ErrorIs(t, err, ErrHandshakeCut)
			assert.NotErrorIs(t, err, transport.ErrBadHandshake)
			var he *transport.HandshakeError
			assert.NotErrorAs(t, err, &he)
		})
	}
}

// TestServerClosesDuringTLS: the same during the TLS handshake of a wss
// dial.
func TestServerClosesDuringTLS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Read the whole ClientHello record, so that the close is a FIN,
		// not a reset.
		var hdr [5]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		_, _ = io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint16(hdr[3:])))
	}()
	defer func() {
		ln.Close()
		<-done
	}()
	err = dialErr(t, newTransport(t, WithProxy(nil)), transport.Target{URL: "wss://" + ln.Addr().String() + "/"})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.ErrorIs(t, err, ErrHandshakeCut)
	assert.NotErrorIs(t, err, transport.ErrCertificate)
}
