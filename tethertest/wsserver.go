package tethertest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// ErrServerClosed is returned by WSServer.Accept after WSServer.Close.
var ErrServerClosed = errors.New("tethertest: server closed")

// AcceptBacklog bounds how many connections a [WSServer] without
// [WithHandler] holds for [WSServer.Accept]: upgraded connections not yet
// accepted, plus upgrades under way.
const AcceptBacklog = 64

// WSServer is a real WebSocket server on a loopback port, scripted by the
// test like transport/memory's server: Accept hands over each connection as
// a *WSConn whose methods send, ping, close, drop or stall it. It answers
// pings and close frames by itself. Use it where bytes must cross a real
// socket: examples, the CLI's tests, interop with the WebSocket transport.
//
// Guarantees a test can build on:
//
//   - A connection is recorded before the server writes its upgrade answer,
//     so once a client's Dial (or Connect) has returned, [WSServer.DropAll]
//     drops that connection.
//   - Without [WithHandler], connections queue for [WSServer.Accept] in the
//     order they arrived (so clients that dial one after the other are
//     accepted in that order), and none is ever dropped for want of room. At most [AcceptBacklog] wait: further upgrades get no answer
//     (the client's Dial waits, as with a real server's full listen backlog)
//     until Accept makes room, the client gives up, or the server closes
//     (then they are refused with 503). [WSServer.Held] counts them. A
//     connection that ends while queued keeps its place until Accept takes
//     it; tests that open many connections and never call Accept pass
//     WithHandler instead.
//   - [WSServer.Close] ends every connection and returns only once every
//     goroutine the server started for them (readers, handlers, upgrades)
//     has returned.
//
// All methods are safe for concurrent use.
type WSServer struct {
	// URL is the ws:// address to dial.
	URL string

	hs      *httptest.Server
	handled sync.WaitGroup // upgrades under way, readers, handlers
	closing sync.Once

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced on every change below
	refuse      int           // HTTP status to refuse upgrades with, 0 to accept
	live        map[*WSConn]struct{}
	queue       []*WSConn // for Accept, in arrival order; the head may still be upgrading
	reserved    int       // places taken in the backlog: queued, or upgrading
	held        int       // upgrades waiting for a place in the backlog
	closed      bool
	onConn      func(*WSConn)
	lossless    bool // readers wait for Recv rather than discard (WithRecvBackpressure)
	protos      []string
	httpHandler http.Handler
}

// WSServerOption configures a WSServer.
type WSServerOption interface{ applyWS(*WSServer) }

type wsOption func(*WSServer)

func (f wsOption) applyWS(s *WSServer) { f(s) }

// WithHandler runs h on its own goroutine for every accepted connection,
// instead of queueing the connection for Accept, so no backlog applies. The
// connection stays open after h returns, until it is closed or dropped.
// [WSServer.Close] waits for every h to return: h should return once its
// connection's Done is closed (Close drops every connection first), and must
// not call Close itself.
func WithHandler(h func(*WSConn)) WSServerOption {
	return wsOption(func(s *WSServer) { s.onConn = h })
}

// WithRecvBackpressure makes each connection's reader wait for
// [WSConn.Recv] when RecvQueue messages are queued, instead of discarding
// the next ones: the client is slowed down by TCP, as by a server that
// reads slowly, and nothing it sends is lost. While the reader waits it
// answers no ping, so give the client a heartbeat that tolerates it (or
// none). Use it in tests that count what the server received.
func WithRecvBackpressure() WSServerOption {
	return wsOption(func(s *WSServer) { s.lossless = true })
}

// WithServerSubprotocols makes the server select the first offered
// subprotocol that is in protocols.
func WithServerSubprotocols(protocols ...string) WSServerOption {
	return wsOption(func(s *WSServer) { s.protos = protocols })
}

// NewWSServer starts a server on 127.0.0.1 and returns once it listens.
// Close it when done.
func NewWSServer(opts ...WSServerOption) *WSServer {
	s := &WSServer{changed: make(chan struct{}), live: make(map[*WSConn]struct{})}
	for _, o := range opts {
		o.applyWS(s)
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = "ws" + strings.TrimPrefix(s.hs.URL, "http")
	return s
}

// Refuse makes every later upgrade fail with HTTP status (0 accepts again):
// a proxy that blocks WebSocket, say. Upgrades already answered are not
// affected. It does not block.
func (s *WSServer) Refuse(status int) {
	s.mu.Lock()
	s.refuse = status
	s.mu.Unlock()
}

// HandleHTTP serves h to every later request that is not a WebSocket
// upgrade, so a test or an example can serve REST beside the WebSocket
// endpoint. Without it such requests get 400. It does not block; Close
// waits for requests h is serving.
func (s *WSServer) HandleHTTP(h http.Handler) {
	s.mu.Lock()
	s.httpHandler = h
	s.mu.Unlock()
}

// Accept returns the next connection, in the order connections arrived
// (their upgrade requests were read), once its upgrade has completed,
// blocking until there is one. It returns ctx's error when ctx
// ends first, and [ErrServerClosed] once Close has begun. A connection that
// ended while it waited is returned all the same (its Done is closed).
// With [WithHandler], connections go to the handler and Accept only waits.
func (s *WSServer) Accept(ctx context.Context) (*WSConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && (len(s.queue) == 0 || !s.queue[0].ready) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.wait(ctx.Done())
	}
	if s.closed {
		return nil, ErrServerClosed
	}
	c := s.queue[0]
	s.queue[0] = nil
	s.queue = s.queue[1:]
	s.reserved--
	s.broadcast() // a place in the backlog is free
	return c, nil
}

// Held returns how many upgrades wait, unanswered, because [AcceptBacklog]
// connections are waiting for Accept. A test whose Dial hangs can check it.
// It does not block.
func (s *WSServer) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// DropAll drops, without a close frame, every connection whose upgrade the
// server has begun to answer: a server crash, as the client sees it. That
// includes every connection whose client's Dial has returned, and those
// queued for Accept; a Dial still reading its answer fails. When DropAll
// returns, each of them has ended (its Done is closed) and its socket is
// closed. It does not wait for the network.
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

// Close drops every connection, refuses upgrades still waiting for room
// (503), stops the listener, and waits until every goroutine the server
// started has returned: readers, upgrades under way, handlers (see
// [WithHandler]) and requests served by [WSServer.HandleHTTP]. Later calls,
// and calls made while it runs, wait the same way and do nothing more.
func (s *WSServer) Close() {
	s.closing.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.queue = nil
		s.broadcast()
		s.mu.Unlock()
		s.DropAll()
		s.hs.Close()
		s.handled.Wait()
	})
}

// wait releases s.mu until the next broadcast or until done is closed, then
// takes s.mu again. s.mu is held.
func (s *WSServer) wait(done <-chan struct{}) {
	ch := s.changed
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-ch:
	case <-done:
	}
}

// broadcast wakes every waiter. s.mu is held.
func (s *WSServer) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}
