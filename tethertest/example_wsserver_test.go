package tethertest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// The test scripts the server's end of a connection: it sends a message,
// reads the client's, then drops the connection as a crashed server would.
func ExampleWSServer() {
	srv := tethertest.NewWSServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	tr, err := websocket.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := tr.Dial(ctx, transport.Target{URL: srv.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(transport.StatusNormalClosure, "")
	sc, err := srv.Accept(ctx) // the server's end of c
	if err != nil {
		fmt.Println(err)
		return
	}

	_ = sc.Send(transport.Text, []byte("hello"))
	m, _ := c.Read()
	fmt.Println("client got:", string(m.Payload))

	_ = c.Write(ctx, transport.Text, []byte("hi"))
	m, _ = sc.Recv(ctx)
	fmt.Println("server got:", string(m.Payload))

	srv.DropAll() // reaches c: its Dial has returned
	_, err = c.Read()
	code, _ := transport.CloseCode(err)
	fmt.Println("client read:", code)
	// Output:
	// client got: hello
	// server got: hi
	// client read: 1006 (abnormal closure)
}
