package memory_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// A test plays the server through the ServerConn while the code under test
// holds the client's Conn.
func Example() {
	ctx := context.Background()
	c, sc, err := memory.Pipe()
	if err != nil {
		panic(err)
	}

	_ = sc.Send(ctx, transport.Text, []byte("hello"))
	m, _ := c.Read()
	fmt.Printf("client read %s %q\n", m.Type, m.Payload)

	_ = c.Write(ctx, transport.Text, []byte("hi back"))
	got, _ := sc.Recv(ctx)
	fmt.Printf("server got %s %q\n", got.Type, got.Payload)

	sc.Close(transport.StatusGoingAway, "restart")
	_, err = c.Read()
	var ce *transport.CloseError
	if errors.As(err, &ce) {
		fmt.Println("client saw close", ce.Code, ce.Reason, "remote:", ce.Remote)
	}
	// Output:
	// client read text "hello"
	// server got text "hi back"
	// client saw close 1001 (going away) restart remote: true
}

// A scripted refusal fails one dial with the HTTP answer; the next proceeds.
func ExampleServer_Script() {
	ctx := context.Background()
	srv, err := memory.NewServer(memory.WithAutoAccept())
	if err != nil {
		panic(err)
	}
	srv.Script(memory.Refuse(http.StatusServiceUnavailable, http.Header{"Retry-After": {"2"}}, "busy"))
	tr := srv.Transport()

	for attempt := 1; attempt <= 2; attempt++ {
		url := fmt.Sprintf("ws://example.test/feed?attempt=%d", attempt)
		c, err := tr.Dial(ctx, transport.Target{URL: url})
		if he, ok := errors.AsType[*transport.HandshakeError](err); ok {
			fmt.Println("attempt", attempt, "refused:", he.StatusCode, "retry after", he.Header.Get("Retry-After"))
			continue
		}
		sc, _ := srv.Accept(ctx)
		fmt.Println("attempt", attempt, "connected to", sc.Target().URL)
		_ = c.Close(transport.StatusNormalClosure, "")
	}
	fmt.Println(len(srv.Dials()), "dials recorded")
	// Output:
	// attempt 1 refused: 503 retry after 2
	// attempt 2 connected to ws://example.test/feed?attempt=2
	// 2 dials recorded
}

// Drop makes the connection vanish without a close frame.
func ExampleServerConn_Drop() {
	c, sc, err := memory.Pipe()
	if err != nil {
		panic(err)
	}
	sc.Drop()
	_, err = c.Read()
	code, _ := transport.CloseCode(err)
	fmt.Println("client:", code, errors.Is(err, io.ErrUnexpectedEOF))
	fmt.Println("server:", errors.Is(sc.Err(), memory.ErrDropped))
	// Output:
	// client: 1006 (abnormal closure) true
	// server: true
}

// A message larger than the client's limit makes the client close with 1009,
// even when it comes in fragments.
func ExampleServerConn_SendFragmented() {
	ctx := context.Background()
	c, sc, err := memory.Pipe(memory.WithMaxMessageSize(8))
	if err != nil {
		panic(err)
	}
	_ = sc.SendFragmented(ctx, transport.Text, []byte("in three parts"), 3)
	_, err = c.Read()
	fmt.Println(errors.Is(err, transport.ErrMessageTooLarge))
	_, err = sc.Recv(ctx)
	code, _ := transport.CloseCode(err)
	fmt.Println("server received close", code)
	// Output:
	// true
	// server received close 1009 (message too big)
}
