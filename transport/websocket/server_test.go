package websocket

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// wait is the generous bound every test waits for an event under. Tests
// never sleep; they wait for events and fail only when this passes.
const wait = 10 * time.Second

// peer is the server side of one test connection.
type peer struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	hs   ws.Handshake
	hdr  http.Header
	host string
}

// frame is one frame as the server read it, unmasked.
type frame struct {
	op      ws.OpCode
	fin     bool
	masked  bool
	mask    [4]byte
	payload []byte
}

// read reads one frame from the client and unmasks it.
func (p *peer) read() (frame, error) {
	h, err := ws.ReadHeader(p.br)
	if err != nil {
		return frame{}, err
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(p.br, payload); err != nil {
		return frame{}, err
	}
	if h.Masked {
		ws.Cipher(payload, h.Mask, 0)
	}
	return frame{op: h.OpCode, fin: h.Fin, masked: h.Masked, mask: h.Mask, payload: payload}, nil
}

// readData reads frames until a data frame, answering nothing.
func (p *peer) readData() (frame, error) {
	for {
		f, err := p.read()
		if err != nil || f.op.IsData() || f.op == ws.OpClose {
			return f, err
		}
	}
}

// readClose reads frames until a close frame and returns its code and
// reason. It fails the test on a read error (from any goroutine).
func (p *peer) readClose() (code transport.StatusCode, reason string, ok bool) {
	for {
		f, err := p.read()
		if !assert.NoError(p.t, err, "server waiting for a close frame") {
			return 0, "", false
		}
		if f.op != ws.OpClose {
			continue
		}
		assert.True(p.t, f.masked, "client close frame must be masked")
		if len(f.payload) < 2 {
			return transport.StatusNoStatusReceived, "", true
		}
		return transport.StatusCode(binary.BigEndian.Uint16(f.payload)), string(f.payload[2:]), true
	}
}

// write writes one unmasked server frame.
func (p *peer) write(op ws.OpCode, fin bool, payload []byte) error {
	return ws.WriteFrame(p.conn, ws.NewFrame(op, fin, payload))
}

// writeClose writes a close frame with code and reason.
func (p *peer) writeClose(code transport.StatusCode, reason string) error {
	return p.write(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusCode(code), reason))
}

// server is an in-process gobwas WebSocket server on a loopback listener.
type server struct {
	t   *testing.T
	ln  net.Listener
	url string
	// peers receives each upgraded connection; the test drives it.
	peers chan *peer

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// serverOption adjusts the upgrader of a test server.
type serverOption func(*ws.Upgrader)

// newServer starts a server whose upgraded connections are handed to the
// test through s.peers. Everything is closed at cleanup.
func newServer(t *testing.T, opts ...serverOption) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &server{t: t, ln: ln, url: "ws://" + ln.Addr().String() + "/feed", peers: make(chan *peer, 16)}
	s.wg.Add(1)
	go s.accept(opts)
	t.Cleanup(s.close)
	return s
}

func (s *server) accept(opts []serverOption) {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.track(c)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			p := &peer{t: s.t, conn: c, hdr: http.Header{}}
			u := ws.Upgrader{
				OnHost: func(h []byte) error { p.host = string(h); return nil },
				OnHeader: func(k, v []byte) error {
					p.hdr.Add(string(k), string(v))
					return nil
				},
			}
			for _, o := range opts {
				o(&u)
			}
			hs, err := u.Upgrade(c)
			if err != nil {
				c.Close()
				return
			}
			p.hs = hs
			p.br = bufio.NewReader(c)
			s.peers <- p
		}()
	}
}

func (s *server) track(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns = append(s.conns, c)
}

func (s *server) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// next returns the next upgraded connection.
func (s *server) next() *peer {
	s.t.Helper()
	select {
	case p := <-s.peers:
		return p
	case <-time.After(wait):
		require.FailNow(s.t, "no connection reached the server")
		return nil
	}
}

// newTransport builds a Transport or fails the test.
func newTransport(t *testing.T, opts ...Option) *Transport {
	t.Helper()
	tr, err := New(opts...)
	require.NoError(t, err)
	return tr
}

// dial connects to url and registers a Close at cleanup.
func dial(t *testing.T, tr *Transport, target transport.Target) transport.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := tr.Dial(ctx, target)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(transport.StatusNormalClosure, "") })
	return c
}

// connectPair starts a server, dials it and returns both ends.
func connectPair(t *testing.T, opts ...Option) (transport.Conn, *peer, *server) {
	t.Helper()
	s := newServer(t)
	c := dial(t, newTransport(t, opts...), transport.Target{URL: s.url})
	return c, s.next(), s
}

// reader runs Read in a goroutine and delivers owned copies of the results.
type result struct {
	m   transport.Message
	err error
}

func readLoop(c transport.Conn) <-chan result {
	out := make(chan result, 64)
	go func() {
		defer close(out)
		for {
			m, err := transport.ReadOwned(c)
			out <- result{m, err}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// next receives the next read result or fails the test.
func next(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r, ok := <-ch:
		require.True(t, ok, "reader stopped")
		return r
	case <-time.After(wait):
		require.FailNow(t, "no message read")
		return result{}
	}
}

// waitDone waits for the connection to end.
func waitDone(t *testing.T, c transport.Conn) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(wait):
		require.FailNow(t, "connection did not end")
	}
}

// closeErr returns the *CloseError in err or fails the test.
func closeErr(t *testing.T, err error) *transport.CloseError {
	t.Helper()
	var ce *transport.CloseError
	require.True(t, errors.As(err, &ce), "want a *CloseError, got %v", err)
	return ce
}
