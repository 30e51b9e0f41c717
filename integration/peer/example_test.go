package peer_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// Start a ws peer, talk to it with the WebSocket transport, and read what
// the peer saw from its events.
func ExampleStart() {
	p, err := peer.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr, err := websocket.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	conn, err := tr.Dial(ctx, transport.Target{
		URL:          p.URL("/echo?id=example"),
		Subprotocols: []string{"v1.tether", "v2.tether"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = conn.Write(ctx, transport.Text, []byte("hi"))
	m, _ := conn.Read()
	fmt.Printf("echo: %s %q\n", m.Type, m.Payload)
	_ = conn.Close(4002, "done")

	opened, _ := p.Wait(ctx, peer.Is("example", peer.KindOpen))
	closed, _ := p.Wait(ctx, peer.Is("example", peer.KindClose))
	fmt.Println("peer selected:", opened.Protocol)
	fmt.Println("peer received close:", closed.Code, closed.Reason)
	// Output:
	// echo: text "hi"
	// peer selected: v2.tether
	// peer received close: 4002 done
}
