package fallback_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/fallback"
	"github.com/tether-go/tether/transport/memory"
	"github.com/tether-go/tether/transport/polling"
)

// A proxy that answers the upgrade with 426 makes the first Dial fall back
// to polling at once; the Conn says which transport it runs on.
func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`["hello over HTTP"]`))
	}))
	defer api.Close()

	// A stand-in for the WebSocket transport, behind a proxy that blocks it.
	ws, _ := memory.NewServer()
	ws.SetDefault(memory.Refuse(http.StatusUpgradeRequired, nil, ""))
	poll, _ := polling.New(polling.WithHTTPClient(api.Client()))

	tr, err := fallback.New(ws.Transport(), poll,
		fallback.WithOnSwitch(func(from, to string, reason error) {
			fmt.Printf("switch %s -> %s (HTTP %d)\n", from, to, transport.StatusFromError(reason))
		}))
	if err != nil {
		panic(err)
	}
	c, err := tr.Dial(context.Background(), transport.Target{URL: "ws" + api.URL[len("http"):] + "/feed"})
	if err != nil {
		panic(err)
	}
	defer c.Close(transport.StatusNormalClosure, "")

	name := c.(interface{ TransportName() string }).TransportName()
	m, _ := c.Read()
	fmt.Printf("on %s (active %s): %s\n", name, tr.Active(), m.Payload)
	// Output:
	// switch memory -> polling (HTTP 426)
	// on polling (active polling): "hello over HTTP"
}

// DefaultProxyRefusal is the rule that switches at once; anything else waits
// for WithSwitchAfter failures in a row.
func ExampleDefaultProxyRefusal() {
	for _, status := range []int{403, 404, 426, 200, 401, 503} {
		err := &transport.HandshakeError{StatusCode: status}
		fmt.Println(status, fallback.DefaultProxyRefusal(err))
	}
	// Output:
	// 403 true
	// 404 true
	// 426 true
	// 200 true
	// 401 false
	// 503 false
}
