package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// Frame is every message of the feed's protocol, both ways.
type Frame struct {
	Type   string  `json:"type"`
	Token  string  `json:"token,omitempty"`
	Reason string  `json:"reason,omitempty"`
	Symbol string  `json:"symbol,omitempty"`
	Price  float64 `json:"price,omitempty"`
}

// Price is one price the client received.
type Price struct {
	Symbol string
	Price  float64
}

// server is the price feed: it wants a valid token as the first message,
// answers auth_ok or auth_error, and only then sends prices. On the first
// authenticated connection it reads the client's alert, sends three prices
// and drops the connection; on the next it sends three more.
type server struct {
	ws *tethertest.WSServer

	mu     sync.Mutex
	log    []string
	priced int // authenticated connections so far
}

func newServer() *server {
	s := &server{}
	s.ws = tethertest.NewWSServer(tethertest.WithHandler(s.serve))
	return s
}

func (s *server) close() { s.ws.Close() }

func (s *server) serve(c *tethertest.WSConn) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-c.Done(); cancel() }()
	var hello Frame
	m, err := c.Recv(ctx)
	if err != nil || json.Unmarshal(m.Payload, &hello) != nil || hello.Type != "auth" {
		_ = c.Close(transport.StatusPolicyViolation, "authenticate first")
		return
	}
	s.note("token " + hello.Token)
	if hello.Token != "fresh-token" {
		s.send(c, Frame{Type: "auth_error", Reason: "token expired"})
		<-c.Done() // the client closes
		return
	}
	s.send(c, Frame{Type: "auth_ok"})
	s.mu.Lock()
	s.priced++
	first := s.priced == 1
	s.mu.Unlock()
	if first {
		// The client's alert comes now that it is ready: read it, send
		// the prices, and drop the connection.
		if s.readAlert(ctx, c) != nil {
			return
		}
		s.sendPrices(c)
		c.Drop()
		return
	}
	s.sendPrices(c)
	<-c.Done()
}

func (s *server) sendPrices(c *tethertest.WSConn) {
	for i := range 3 {
		s.send(c, Frame{Type: "price", Symbol: "BTC", Price: 100 + float64(i)})
	}
}

// readAlert records the next message the client sends.
func (s *server) readAlert(ctx context.Context, c *tethertest.WSConn) error {
	m, err := c.Recv(ctx)
	if err != nil {
		return err
	}
	var f Frame
	if err := json.Unmarshal(m.Payload, &f); err != nil {
		return err
	}
	s.note(fmt.Sprintf("%s %s %.0f", f.Type, f.Symbol, f.Price))
	return nil
}

func (s *server) send(c *tethertest.WSConn, f Frame) {
	b, _ := json.Marshal(f)
	_ = c.Send(transport.Text, b)
}

func (s *server) note(line string) {
	s.mu.Lock()
	s.log = append(s.log, line)
	s.mu.Unlock()
}

// seen returns what the server saw, in order.
func (s *server) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}
