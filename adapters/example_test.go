package adapters_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// A client of your own, composed from the adapters around a lifecycle
// machine: a Connector that dials and reads, an Outbox that buffers and
// accounts for what is sent, and a Reconnect policy. (tether.New composes
// the same parts, with a heartbeat, streams and callbacks.) Here it talks
// to the in-memory transport's server.
func Example_compose() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, err := memory.NewServer(memory.WithAutoAccept())
	if err != nil {
		panic(err)
	}

	m := fsm.New()
	out := adapters.NewOutbox(m, adapters.WithLostHook(func(l adapters.Lost) {
		fmt.Println("possibly lost:", l.IDs)
	}))
	got := make(chan string, 1)
	con := adapters.NewConnector(m, srv.Transport(), adapters.StaticTarget(transport.Target{URL: "memory://feed"}),
		adapters.WithObserver(out),
		adapters.WithMessageHandler(func(_ *adapters.Session, msg transport.Message) { got <- string(msg.Payload) }))
	rec := adapters.NewReconnect(m, policy.Constant(time.Second))

	// Sent before the connection is open: the outbox holds it, and writes
	// it once the machine reaches Open.
	if _, err := out.Send(ctx, transport.Text, []byte("hello"), "hello"); err != nil {
		panic(err)
	}
	if _, err := con.Connect(ctx); err != nil {
		panic(err)
	}
	sc, err := srv.Accept(ctx)
	if err != nil {
		panic(err)
	}
	msg, err := sc.Recv(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("server read:", string(msg.Payload))
	if err := sc.Send(ctx, transport.Text, []byte("welcome")); err != nil {
		panic(err)
	}
	fmt.Println("client read:", <-got)

	// The close handshake; then every adapter's goroutines end.
	if _, err := con.Close(ctx, transport.StatusNormalClosure, "bye"); err != nil {
		panic(err)
	}
	for _, wait := range []func(context.Context) error{con.Wait, out.Wait, rec.Wait} {
		if err := wait(ctx); err != nil {
			panic(err)
		}
	}
	fmt.Println("state:", m.State())
	// Output:
	// server read: hello
	// client read: welcome
	// state: Closed
}
