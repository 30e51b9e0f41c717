package tether_test

import (
	"bufio"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

// rawServer is a WebSocket server that completes the handshake with gobwas
// and then lets a test write any bytes at all, valid or not. It counts the
// data frames the client sends.
type rawServer struct {
	url      string
	ln       net.Listener
	wg       sync.WaitGroup
	received atomic.Int32
	mu       sync.Mutex
	conns    []net.Conn
}

// newRawServer runs script on every connection after the handshake.
func newRawServer(t *testing.T, script func(w io.Writer)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &rawServer{url: "ws://" + ln.Addr().String() + "/feed", ln: ln}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Go(func() { s.serve(c, script) })
		}
	})
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) serve(c net.Conn, script func(w io.Writer)) {
	defer c.Close()
	if _, err := ws.Upgrade(c); err != nil {
		return
	}
	s.wg.Go(func() { script(c) })
	br := bufio.NewReader(c)
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, br, h.Length); err != nil {
			return
		}
		if h.OpCode.IsData() && h.Fin {
			s.received.Add(1)
		}
		if h.OpCode == ws.OpClose {
			_ = ws.WriteFrame(c, ws.NewCloseFrame(nil))
			return
		}
	}
}

func (s *rawServer) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// frame encodes one server frame (unmasked unless mask is set).
func frame(op ws.OpCode, fin bool, payload []byte, mask bool, rsv byte) []byte {
	h := ws.Header{Fin: fin, OpCode: op, Length: int64(len(payload)), Rsv: rsv}
	p := append([]byte(nil), payload...)
	if mask {
		h.Masked = true
		h.Mask = [4]byte{1, 2, 3, 4}
		ws.Cipher(p, h.Mask, 0)
	}
	var b writerBuf
	_ = ws.WriteHeader(&b, h)
	return append(b, p...)
}

type writerBuf []byte

func (w *writerBuf) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }

// serveOnce accepts one connection on a loopback listener, completes the
// WebSocket handshake and runs script on it, then closes it. The listener
// closes, and script is waited for, at the test's cleanup. It returns the
// ws:// URL to dial.
func serveOnce(t *testing.T, script func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := ws.Upgrade(c); err != nil {
			return
		}
		script(c)
	})
	return "ws://" + ln.Addr().String() + "/feed"
}
