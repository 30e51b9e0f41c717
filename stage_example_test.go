package tether_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// A stage between the socket opening and Open: the client sends a token
// and the connection is ready only once the server accepted it.
func ExampleWithStage() {
	srv, _ := memory.NewServer(memory.WithAutoAccept())
	authenticating := fsm.DefineStage("Authenticating")
	c, err := tether.New[string]("memory://feed", tether.WithTransport(srv.Transport()),
		tether.WithoutHeartbeat(), tether.WithAutoConnect(false),
		tether.WithStage(authenticating, func(ctx context.Context, s *tether.Stage) error {
			if err := s.Send(ctx, "token 42"); err != nil {
				return err
			}
			m, err := s.Receive(ctx)
			if err != nil {
				return err
			}
			if string(m.Payload) != "welcome" {
				return errors.New("refused")
			}
			return nil
		}))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	defer c.Close(ctx)
	trs := c.Transitions(ctx)
	defer trs.Close()

	connected := make(chan error, 1)
	go func() { connected <- c.Connect(ctx) }()
	sc, _ := srv.Accept(ctx)
	m, _ := sc.Recv(ctx)
	fmt.Printf("the server got %q; ready: %v\n", m.Payload, c.IsConnected())
	_ = sc.Send(ctx, transport.Text, []byte("welcome"))
	fmt.Println("Connect:", <-connected, "ready:", c.IsConnected())
	for range 4 {
		tr := <-trs.C()
		fmt.Println(tr.From, "-"+tr.Event.String()+"->", tr.To)
	}
	// Output:
	// the server got "token 42"; ready: false
	// Connect: <nil> ready: true
	// Idle -none-> Idle
	// Idle -connect-> Connecting
	// Connecting -dialed-> Authenticating
	// Authenticating -stage_done-> Open
}
