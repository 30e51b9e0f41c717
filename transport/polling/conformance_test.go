package polling_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/polling"
	"github.com/tether-go/tether/transport/transporttest"
)

// conformanceProtocol is the subprotocol the conformance server selects.
const conformanceProtocol = "tether.conformance"

// TestConformance checks the polling transport against the transport
// contract, over a loopback HTTP server. Polling has no close frames and
// no server pings: the server ends a connection by refusing its next poll
// with 403 (the Conn ends with 1008, Remote true), and a dropped one fails
// its next poll (1006, the transport giving up after one failure here).
//
// The HTTP client keeps no idle connections: net/http finishes a TCP dial
// whose request was cancelled and pools the connection, so with keep-alives
// an abandoned Dial can leave a connection to the hanging server in the
// client's pool (until its idle timeout), which is the client's, not the
// Conn's, and which the dial checks would count.
func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) transporttest.Harness {
		srv := newPollServer()
		t.Cleanup(srv.Close)
		ht := srv.Client().Transport.(*http.Transport).Clone()
		ht.DisableKeepAlives = true
		t.Cleanup(ht.CloseIdleConnections)
		tr, err := polling.New(
			polling.WithHTTPClient(&http.Client{Transport: ht}),
			polling.WithFormat(polling.WholeBody),
			polling.WithInterval(5*time.Millisecond),
			polling.WithSendPath("/send"),
			polling.WithMaxFailures(1),
		)
		require.NoError(t, err)
		return transporttest.Harness{
			Transport:   tr,
			Target:      transport.Target{URL: srv.URL + "/feed"},
			Accept:      srv.accept,
			Hang:        func() transporttest.HungDial { return transporttest.SilentServer(t, "http") },
			Subprotocol: conformanceProtocol,
			Caps:        transporttest.Capabilities{Ping: true},
		}
	})
}

// pollServer is a polling endpoint that serves each connection a session
// of its own: a GET without If-None-Match is a dial and opens one, whose id
// goes out as the ETag, and later polls name it in If-None-Match. POSTs go
// to the latest session (the suite keeps one connection open at a time).
type pollServer struct {
	*httptest.Server

	mu       sync.Mutex
	sessions map[string]*pollSession
	latest   *pollSession
	dialed   chan *pollSession // for accept, in dial order
}

func newPollServer() *pollServer {
	s := &pollServer{sessions: make(map[string]*pollSession), dialed: make(chan *pollSession, 64)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *pollServer) accept(ctx context.Context) (transporttest.Peer, error) {
	select {
	case p := <-s.dialed:
		return p, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *pollServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.sessions[r.Header.Get("If-None-Match")]
	switch {
	case r.Method == http.MethodPost:
		p = s.latest
	case p == nil:
		p = &pollSession{id: strconv.Quote(fmt.Sprint(len(s.sessions))), changed: make(chan struct{})}
		s.sessions[p.id], s.latest = p, p
		s.dialed <- p
	}
	s.mu.Unlock()
	if p == nil {
		http.Error(w, "no connection to send to", http.StatusNotFound)
		return
	}
	offered := strings.Split(r.Header.Get("Sec-WebSocket-Protocol"), ", ")
	if slices.Contains(offered, conformanceProtocol) {
		w.Header().Set("Sec-WebSocket-Protocol", conformanceProtocol)
	}
	w.Header().Set("ETag", p.id)
	if r.Method == http.MethodPost {
		p.receive(w, r)
		return
	}
	p.answer(w)
}

// pollSession is the server's end of one connection: a transporttest.Peer.
type pollSession struct {
	id string

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when in grows
	out     []transport.Message
	in      []transport.Message
	closed  bool
	dropped bool
}

// answer answers a poll: the next message, 403 once closed, or nothing.
func (p *pollSession) answer(w http.ResponseWriter) {
	p.mu.Lock()
	var m transport.Message
	ok := len(p.out) > 0
	if ok {
		m, p.out = p.out[0], p.out[1:]
	}
	closed, dropped := p.closed, p.dropped
	p.mu.Unlock()
	switch {
	case dropped:
		hangUp(w)
	case ok && m.Type == transport.Text:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(m.Payload)
	case ok:
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(m.Payload)
	case closed:
		w.WriteHeader(http.StatusForbidden)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// receive takes a message the client POSTed.
func (p *pollSession) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropped || err != nil {
		hangUp(w)
		return
	}
	typ := transport.Text
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		typ = transport.Binary
	}
	p.in = append(p.in, transport.Message{Type: typ, Payload: body})
	close(p.changed)
	p.changed = make(chan struct{})
	w.WriteHeader(http.StatusNoContent)
}

// hangUp closes the request's connection without an answer.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

func (p *pollSession) Send(_ context.Context, typ transport.MessageType, payload []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out = append(p.out, transport.Message{Type: typ, Payload: slices.Clone(payload)})
	return nil
}

func (p *pollSession) Recv(ctx context.Context) (transport.Message, error) {
	for {
		p.mu.Lock()
		if len(p.in) > 0 {
			m := p.in[0]
			p.in = p.in[1:]
			p.mu.Unlock()
			return m, nil
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return transport.Message{}, ctx.Err()
		}
	}
}

func (p *pollSession) Ping(context.Context, []byte) error {
	return fmt.Errorf("polling server: ping: %w", transport.ErrUnsupported)
}

// Close refuses the next polls with 403; polling has no close frame.
func (p *pollSession) Close(transport.StatusCode, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
}

// Drop hangs up on every later request of the session.
func (p *pollSession) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropped = true
}
