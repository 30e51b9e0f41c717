package polling_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/polling"
)

// A polling Conn reads like any other: each element of the JSON array an
// endpoint answers with is one Text message.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `[{"cpu":0.42},{"cpu":0.40}]`)
		case http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			fmt.Printf("server got %s\n", body)
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer srv.Close()

	tr, err := polling.New(polling.WithPollPath("/metrics"), polling.WithSendPath("/metrics/commands"),
		polling.WithHTTPClient(srv.Client()))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	// The WebSocket URL works too: ws maps to http.
	c, err := tr.Dial(ctx, transport.Target{URL: "ws" + srv.URL[len("http"):] + "/metrics/ws"})
	if err != nil {
		panic(err)
	}
	for range 2 {
		m, _ := c.Read()
		fmt.Printf("%s %s\n", m.Type, m.Payload)
	}
	_ = c.Write(ctx, transport.Text, []byte(`{"interval":"5s"}`))
	_ = c.Close(transport.StatusNormalClosure, "done")
	_, err = c.Read()
	code, _ := transport.CloseCode(err)
	fmt.Println("closed:", code)
	// Output:
	// text {"cpu":0.42}
	// text {"cpu":0.40}
	// server got {"interval":"5s"}
	// closed: 1000 (normal closure)
}

// A server that refuses the first GET fails Dial with the same typed error
// the WebSocket transport gives for a refused upgrade.
func ExampleTransport_Dial_refused() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	tr, _ := polling.New(polling.WithHTTPClient(srv.Client()))
	_, err := tr.Dial(context.Background(), transport.Target{URL: srv.URL})
	if he, ok := errors.AsType[*transport.HandshakeError](err); ok {
		fmt.Println(he.StatusCode, he.Header.Get("Retry-After"), he.Body)
	}
	// Output:
	// 503 30 maintenance
}

// Without WithSendPath the transport only reads; Write says so with an
// error that matches transport.ErrUnsupported.
func ExampleErrSendNotConfigured() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	tr, _ := polling.New(polling.WithHTTPClient(srv.Client()))
	c, err := tr.Dial(context.Background(), transport.Target{URL: srv.URL})
	if err != nil {
		panic(err)
	}
	defer c.Close(transport.StatusNormalClosure, "")
	err = c.Write(context.Background(), transport.Text, []byte("hello"))
	fmt.Println(errors.Is(err, polling.ErrSendNotConfigured), errors.Is(err, transport.ErrUnsupported))
	// Output:
	// true true
}
