package tethertest

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/gobwas/ws"

	"github.com/tether-go/tether/transport"
)

// ErrServerClosed is returned by WSServer.Accept after WSServer.Close.
var ErrServerClosed = errors.New("tethertest: server closed")

// WSServer is a real WebSocket server on a loopback port, scripted by the
// test like transport/memory's server: Accept hands over each connection as
// a *WSConn whose methods send, ping, close, drop or stall it. It answers
// pings and close frames by itself. Use it where bytes must cross a real
// socket: examples, the CLI's tests, interop with the WebSocket transport.
//
// All methods are safe for concurrent use.
type WSServer struct {
	// URL is the ws:// address to dial.
	URL string

	hs    *httptest.Server
	conns chan *WSConn

	mu          sync.Mutex
	refuse      int // HTTP status to refuse upgrades with, 0 to accept
	live        map[*WSConn]struct{}
	closed      bool
	onConn      func(*WSConn)
	protos      []string
	httpHandler http.Handler
	handled     sync.WaitGroup
}

// WSServerOption configures a WSServer.
type WSServerOption interface{ applyWS(*WSServer) }

type wsOption func(*WSServer)

func (f wsOption) applyWS(s *WSServer) { f(s) }

// WithHandler runs h on its own goroutine for every accepted connection,
// instead of queueing the connection for Accept. The connection stays open
// after h returns, until it is closed or dropped.
func WithHandler(h func(*WSConn)) WSServerOption {
	return wsOption(func(s *WSServer) { s.onConn = h })
}

// WithServerSubprotocols makes the server select the first offered
// subprotocol that is in protocols.
func WithServerSubprotocols(protocols ...string) WSServerOption {
	return wsOption(func(s *WSServer) { s.protos = protocols })
}

// NewWSServer starts a server on 127.0.0.1. Close it when done.
func NewWSServer(opts ...WSServerOption) *WSServer {
	s := &WSServer{conns: make(chan *WSConn, 64), live: make(map[*WSConn]struct{})}
	for _, o := range opts {
		o.applyWS(s)
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = "ws" + strings.TrimPrefix(s.hs.URL, "http")
	return s
}

// Refuse makes every later upgrade fail with HTTP status (0 accepts again):
// a proxy that blocks WebSocket, say.
func (s *WSServer) Refuse(status int) {
	s.mu.Lock()
	s.refuse = status
	s.mu.Unlock()
}

// HandleHTTP serves h to every request that is not a WebSocket upgrade, so
// a test or an example can serve REST beside the WebSocket endpoint.
func (s *WSServer) HandleHTTP(h http.Handler) {
	s.mu.Lock()
	s.httpHandler = h
	s.mu.Unlock()
}

// Accept returns the next connection, or an error when ctx ends or the
// server closes.
func (s *WSServer) Accept(ctx context.Context) (*WSConn, error) {
	select {
	case c, ok := <-s.conns:
		if !ok {
			return nil, ErrServerClosed
		}
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// DropAll drops every open connection without a close frame: a server
// crash, as the client sees it.
func (s *WSServer) DropAll() {
	s.mu.Lock()
	live := make([]*WSConn, 0, len(s.live))
	for c := range s.live {
		live = append(live, c)
	}
	s.mu.Unlock()
	for _, c := range live {
		c.Drop()
	}
}

// Close drops every connection, stops the listener and waits for every
// goroutine the server started.
func (s *WSServer) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.DropAll()
	s.hs.Close()
	s.handled.Wait()
	close(s.conns)
}

func (s *WSServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse, closed, h := s.refuse, s.closed, s.httpHandler
	s.mu.Unlock()
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") && h != nil {
		h.ServeHTTP(w, r)
		return
	}
	if closed {
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	if refuse != 0 {
		http.Error(w, "websocket refused by the test server", refuse)
		return
	}
	up := ws.HTTPUpgrader{Protocol: func(p string) bool {
		for _, want := range s.protos {
			if p == want {
				return true
			}
		}
		return false
	}}
	conn, rw, hs, err := up.Upgrade(r, w)
	if err != nil {
		return
	}
	c := &WSConn{conn: conn, br: rw.Reader, bw: bufio.NewWriter(conn), srv: s, Subprotocol: hs.Protocol,
		Request: r.Clone(context.Background()), in: make(chan transport.Message, 1024),
		done: make(chan struct{}), resume: make(chan struct{})}
	close(c.resume)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.Close()
		return
	}
	s.live[c] = struct{}{}
	s.handled.Add(1)
	s.mu.Unlock()
	go c.readLoop()
	if s.onConn != nil {
		s.handled.Go(func() { s.onConn(c) })
		return
	}
	select {
	case s.conns <- c:
	default:
		c.Drop() // nobody accepts: do not pile up
	}
}

// WSConn is the server's end of one connection.
type WSConn struct {
	// Subprotocol is the subprotocol the server selected, or "".
	Subprotocol string
	// Request is the upgrade request, with the client's headers.
	Request *http.Request

	conn net.Conn
	br   *bufio.Reader
	srv  *WSServer

	wmu sync.Mutex // one writer: frames never interleave
	bw  *bufio.Writer

	in   chan transport.Message
	done chan struct{}
	once sync.Once
	err  error

	smu    sync.Mutex
	resume chan struct{} // closed while not stalled
}

// Send sends one message.
func (c *WSConn) Send(typ transport.MessageType, payload []byte) error {
	return c.write(ws.NewFrame(ws.OpCode(typ), true, payload))
}

// SendFragmented sends payload as parts frames.
func (c *WSConn) SendFragmented(typ transport.MessageType, payload []byte, parts int) error {
	parts = max(parts, 1)
	size := (len(payload) + parts - 1) / parts
	op := ws.OpCode(typ)
	for i := 0; i < parts; i++ {
		lo, hi := min(i*size, len(payload)), min((i+1)*size, len(payload))
		if err := c.write(ws.NewFrame(op, i == parts-1, payload[lo:hi])); err != nil {
			return err
		}
		op = ws.OpContinuation
	}
	return nil
}

// Ping sends a ping; the client's pong arrives through Recv.
func (c *WSConn) Ping(payload []byte) error { return c.write(ws.NewPingFrame(payload)) }

// Close sends a close frame with code and reason; the connection ends when
// the client answers (or when it is dropped).
func (c *WSConn) Close(code transport.StatusCode, reason string) error {
	return c.write(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusCode(code), reason)))
}

// Drop closes the TCP connection without a close frame.
func (c *WSConn) Drop() { c.end(io.ErrUnexpectedEOF) }

// Stall stops reading from the client: pings go unanswered and, once the
// socket buffers fill, the client's writes block. A black hole.
func (c *WSConn) Stall() {
	c.smu.Lock()
	select {
	case <-c.resume:
		c.resume = make(chan struct{})
	default:
	}
	c.smu.Unlock()
}

// Resume undoes Stall.
func (c *WSConn) Resume() {
	c.smu.Lock()
	select {
	case <-c.resume:
	default:
		close(c.resume)
	}
	c.smu.Unlock()
}

// Recv returns the next message from the client: data, pongs, and its close
// frame as a *transport.CloseError.
func (c *WSConn) Recv(ctx context.Context) (transport.Message, error) {
	select {
	case m := <-c.in:
		return m, nil
	case <-c.done:
		select {
		case m := <-c.in:
			return m, nil
		default:
		}
		return transport.Message{}, c.err
	case <-ctx.Done():
		return transport.Message{}, ctx.Err()
	}
}

// Done is closed when the connection has ended.
func (c *WSConn) Done() <-chan struct{} { return c.done }

// Err says how the connection ended; valid after Done.
func (c *WSConn) Err() error {
	<-c.done
	return c.err
}

func (c *WSConn) write(f ws.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.done:
		return net.ErrClosed
	default:
	}
	if err := ws.WriteFrame(c.bw, f); err != nil {
		return err
	}
	return c.bw.Flush()
}

func (c *WSConn) end(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
		_ = c.conn.Close()
		c.srv.mu.Lock()
		delete(c.srv.live, c)
		c.srv.mu.Unlock()
	})
}

func (c *WSConn) waitResumed() bool {
	c.smu.Lock()
	resume := c.resume
	c.smu.Unlock()
	select {
	case <-resume:
		return true
	case <-c.done:
		return false
	}
}

// readLoop reads the client's frames, answers pings and the close
// handshake, and queues messages for Recv.
func (c *WSConn) readLoop() {
	defer c.srv.handled.Done()
	var (
		msg []byte
		op  ws.OpCode
	)
	for c.waitResumed() {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			c.end(err)
			return
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			c.end(err)
			return
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpPing:
			_ = c.write(ws.NewPongFrame(payload))
		case ws.OpPong:
			c.deliver(transport.Message{Type: transport.Pong, Payload: payload})
		case ws.OpClose:
			code, reason := transport.StatusNoStatusReceived, ""
			if len(payload) >= 2 {
				code, reason = transport.StatusCode(binary.BigEndian.Uint16(payload)), string(payload[2:])
				_ = c.write(ws.NewCloseFrame(payload[:2]))
			} else {
				_ = c.write(ws.NewCloseFrame(nil))
			}
			c.end(&transport.CloseError{Code: code, Reason: reason, Remote: true})
			return
		case ws.OpContinuation:
			msg = append(msg, payload...)
			if h.Fin {
				c.deliver(transport.Message{Type: transport.MessageType(op), Payload: msg})
				msg = nil
			}
		default:
			if h.Fin {
				c.deliver(transport.Message{Type: transport.MessageType(h.OpCode), Payload: payload})
			} else {
				op, msg = h.OpCode, payload
			}
		}
	}
}

func (c *WSConn) deliver(m transport.Message) {
	select {
	case c.in <- m:
	default: // a test that never calls Recv must not block the server
	}
}
