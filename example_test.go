package tether_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// Price is a typed message.
type Price struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
}

func ExampleNew() {
	srv, _ := memory.NewServer(memory.WithAutoAccept())
	c, err := tether.New[Price]("memory://prices",
		tether.WithTransport(srv.Transport()), tether.WithAutoConnect(false))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	defer c.Close(ctx)

	prices := c.Messages(ctx)
	if err := c.Connect(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("status:", c.Status())

	sc, _ := srv.Accept(ctx)
	_ = sc.Send(ctx, transport.Text, []byte(`{"symbol":"ACME","price":12.5}`))
	p := <-prices.C()
	fmt.Printf("%s %.2f\n", p.Symbol, p.Price)
	// Output:
	// status: open
	// ACME 12.50
}

func ExampleClient_Send() {
	srv, _ := memory.NewServer(memory.WithAutoAccept())
	c, _ := tether.New[Price]("memory://prices",
		tether.WithTransport(srv.Transport()), tether.WithAutoConnect(false))
	ctx := context.Background()
	defer c.Close(ctx)

	// Sent before the connection exists: buffered, delivered in order on open.
	_ = c.Send(ctx, "subscribe ACME")                   // a string goes as text
	_ = c.Send(ctx, Price{Symbol: "ACME", Price: 12.5}) // a struct through the codec
	_ = c.Send(ctx, []byte{0x01})                       // []byte goes as binary
	_ = c.Connect(ctx)

	sc, _ := srv.Accept(ctx)
	for range 3 {
		m, _ := sc.Recv(ctx)
		fmt.Printf("%s %q\n", m.Type, m.Payload)
	}
	// Output:
	// text "subscribe ACME"
	// text "{\"symbol\":\"ACME\",\"price\":12.5}"
	// binary "\x01"
}

func ExampleClient_Transitions() {
	srv, _ := memory.NewServer(memory.WithAutoAccept())
	c, _ := tether.New[Price]("memory://prices",
		tether.WithTransport(srv.Transport()), tether.WithAutoConnect(false))
	ctx := context.Background()

	trs := c.Transitions(ctx)
	_ = c.Connect(ctx)
	_ = c.Close(ctx)
	for tr := range trs.All() {
		fmt.Println(tr.From, "->", tr.To, "on", tr.Event)
	}
	// Output:
	// Idle -> Idle on none
	// Idle -> Connecting on connect
	// Connecting -> Open on dialed
	// Open -> Closing on close
	// Closing -> Closed on closed
}

func ExampleClient_WaitForStateChange() {
	srv, _ := memory.NewServer(memory.WithAutoAccept())
	c, _ := tether.New[Price]("memory://prices", tether.WithTransport(srv.Transport()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)
	for st := c.State(); st != fsm.Open; st = c.State() {
		if !c.WaitForStateChange(ctx, st) {
			fmt.Println("gave up waiting")
			return
		}
	}
	fmt.Println(c.State(), c.IsConnected())
	// Output:
	// Open true
}

func ExampleOnRaw() {
	srv, _ := memory.NewServer(memory.WithAutoAccept())
	got := make(chan string, 2)
	c, _ := tether.New[[]byte]("memory://feed",
		tether.WithTransport(srv.Transport()), tether.WithAutoConnect(false),
		// On the reader goroutine; the payload is valid until the callback returns.
		tether.OnRaw(func(m transport.Message) { got <- fmt.Sprintf("%s %q", m.Type, m.Payload) }))
	ctx := context.Background()
	defer c.Close(ctx)
	_ = c.Connect(ctx)

	sc, _ := srv.Accept(ctx)
	_ = sc.Send(ctx, transport.Text, []byte("hello"))
	_ = sc.Send(ctx, transport.Binary, []byte{1, 2})
	fmt.Println(<-got)
	fmt.Println(<-got)
	// Output:
	// text "hello"
	// binary "\x01\x02"
}

func ExampleWithHold() {
	srv, _ := memory.NewServer(memory.WithAutoAccept())
	c, _ := tether.New[string]("memory://feed", tether.WithTransport(srv.Transport()),
		tether.WithHold(64)) // connects at once; up to 64 messages wait for the first subscriber
	ctx := context.Background()
	defer c.Close(ctx)

	sc, _ := srv.Accept(ctx)
	_ = sc.Send(ctx, transport.Text, []byte("welcome"))
	_ = c.Connect(ctx)
	msgs := c.Messages(ctx) // subscribed after the welcome may have been read: it is not lost
	fmt.Println(<-msgs.C())
	// Output: welcome
}
