package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

func ExampleNew() {
	tr, err := websocket.New(
		websocket.WithDialTimeout(10*time.Second),
		websocket.WithMaxMessageSize(1<<20),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tr.Name())

	_, err = websocket.New(websocket.WithDialTimeout(-time.Second))
	fmt.Println(errors.Is(err, websocket.ErrInvalidOption))
	// Output:
	// websocket
	// true
}

func ExampleTransport_Dial() {
	// A one-message echo server on a loopback port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := ws.Upgrade(c); err != nil {
			return
		}
		for {
			msg, op, err := wsutil.ReadClientData(c)
			if err != nil {
				return // the client closed
			}
			_ = wsutil.WriteServerMessage(c, op, msg)
		}
	}()

	tr, err := websocket.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	conn, err := tr.Dial(ctx, transport.Target{URL: "ws://" + ln.Addr().String() + "/echo"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := conn.Write(ctx, transport.Text, []byte("hello")); err != nil {
		fmt.Println(err)
		return
	}
	m, err := conn.Read()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %s\n", m.Type, m.Payload)
	_ = conn.Close(transport.StatusNormalClosure, "done")
	<-served
	code, _ := transport.CloseCode(conn.Err())
	fmt.Println(code)
	// Output:
	// text: hello
	// 1000 (normal closure)
}

func ExampleURLError() {
	tr, _ := websocket.New()
	_, err := tr.Dial(context.Background(), transport.Target{URL: "ftp://user:pw@feed.example/?token=abc"})
	fmt.Println(errors.Is(err, websocket.ErrBadURL))
	fmt.Println(err)
	// Output:
	// true
	// tether/websocket: bad URL "ftp://REDACTED@feed.example/?token=REDACTED": unsupported scheme (want ws or wss)
}
