package tethertest

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/gobwas/ws"

	"github.com/tether-go/tether/transport"
)

// serve answers one HTTP request: a WebSocket upgrade, or a plain request
// for the HandleHTTP handler.
func (s *WSServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse, closed, h := s.refuse, s.closed, s.httpHandler
	if !closed {
		s.handled.Add(1) // before Close can wait: s.closed is set under s.mu
		defer s.handled.Done()
	}
	s.mu.Unlock()
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		if h != nil {
			h.ServeHTTP(w, r)
		} else {
			http.Error(w, "tethertest: not a WebSocket upgrade", http.StatusBadRequest)
		}
		return
	}
	if closed {
		http.Error(w, "tethertest: server closed", http.StatusServiceUnavailable)
		return
	}
	if refuse != 0 {
		http.Error(w, "websocket refused by the test server", refuse)
		return
	}
	queued := s.onConn == nil
	if queued && !s.reserve(r.Context()) {
		http.Error(w, "tethertest: server closed", http.StatusServiceUnavailable)
		return
	}
	if c := s.upgrade(w, r, queued); c != nil && !queued {
		s.handled.Go(func() { s.onConn(c) })
	}
}

// reserve waits for a place in the accept backlog and takes it. It reports
// false when the server closed or the client went away (ctx) first.
func (s *WSServer) reserve(ctx context.Context) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.reserved >= AcceptBacklog && !s.closed && ctx.Err() == nil {
		s.held++
		s.broadcast()
		s.wait(ctx.Done())
		s.held--
		s.broadcast()
	}
	if s.closed || ctx.Err() != nil {
		return false
	}
	s.reserved++
	return true
}

// upgrade completes the handshake and starts the connection's reader. The
// connection is recorded (see track) before the upgrade answer is written.
// It returns nil when the handshake failed or the server closed meanwhile.
func (s *WSServer) upgrade(w http.ResponseWriter, r *http.Request, queued bool) *WSConn {
	var c *WSConn
	hook := &hijackHook{ResponseWriter: w, hijacked: func(conn net.Conn, br *bufio.Reader) {
		c = newWSConn(s, conn, br, r)
		s.track(c, queued)
	}}
	up := ws.HTTPUpgrader{Protocol: func(p string) bool { return slices.Contains(s.protos, p) }}
	_, _, hs, err := up.Upgrade(r, hook)
	if err == nil {
		c.Subprotocol = hs.Protocol // before settle lets Accept return c
		s.handled.Go(c.readLoop)
	}
	if queued {
		s.settle(c, err == nil)
	}
	if err != nil {
		if c != nil { // hijacked: the upgrader wrote its answer, or failed to
			c.end(err)
		}
		return nil
	}
	return c
}

// track records c as live, so DropAll and Close reach it, and queues it
// for Accept in the order connections arrive, or ends it when the server
// has closed.
func (s *WSServer) track(c *WSConn, queued bool) {
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.live[c] = struct{}{}
		if queued {
			s.queue = append(s.queue, c)
		}
	}
	s.mu.Unlock()
	if closed {
		c.end(ErrServerClosed) // the upgrade answer then fails to go out
	}
}

// settle ends the upgrade of a queued connection (nil if the upgrader did
// not hijack it): a completed one is ready for Accept; a failed one leaves
// the queue and gives back its place in the backlog.
func (s *WSServer) settle(c *WSConn, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		c.ready = true
	} else {
		s.queue = slices.DeleteFunc(s.queue, func(q *WSConn) bool { return q == c })
		s.reserved--
	}
	s.broadcast()
}

// forget removes c from the live set.
func (s *WSServer) forget(c *WSConn) {
	s.mu.Lock()
	delete(s.live, c)
	s.mu.Unlock()
}

// hijackHook passes the hijacked connection to hijacked before the
// upgrader writes its answer on it.
type hijackHook struct {
	http.ResponseWriter
	hijacked func(net.Conn, *bufio.Reader)
}

func (h *hijackHook) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		h.hijacked(conn, rw.Reader)
	}
	return conn, rw, err
}

func newWSConn(s *WSServer, conn net.Conn, br *bufio.Reader, r *http.Request) *WSConn {
	c := &WSConn{conn: conn, br: br, bw: bufio.NewWriter(conn), srv: s,
		Request: r.Clone(context.Background()), in: make(chan transport.Message, RecvQueue),
		done: make(chan struct{}), resume: make(chan struct{}), closeIn: make(chan struct{})}
	close(c.resume)
	return c
}
