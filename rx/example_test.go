package rx_test

import (
	"context"
	"fmt"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/rx"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

type price struct {
	Symbol string  `json:"symbol"`
	Value  float64 `json:"value"`
}

// Price is a Client's typed message.
type Price struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
}

// An Rx pipeline over typed messages: filter, map, buffer.
func ExampleMessages() {
	srv, _ := memory.NewServer(memory.WithAutoAccept())
	c, _ := tether.New[Price]("memory://prices",
		tether.WithTransport(srv.Transport()), tether.WithAutoConnect(false))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer c.Close(context.Background())

	batches := rx.Messages(ctx, c, stream.WithOverflow(stream.Block)).
		Filter(func(v any) bool { return v.(Price).Symbol == "ACME" }).
		Map(func(_ context.Context, v any) (any, error) { return v.(Price).Price, nil }).
		BufferWithCount(2)

	_ = c.Connect(ctx)
	sc, _ := srv.Accept(ctx)
	for _, m := range []string{
		`{"symbol":"ACME","price":1}`, `{"symbol":"INIT","price":99}`,
		`{"symbol":"ACME","price":2}`, `{"symbol":"ACME","price":3}`, `{"symbol":"ACME","price":4}`,
	} {
		_ = sc.Send(ctx, transport.Text, []byte(m))
	}
	n := 0
	for item := range batches.Observe() {
		fmt.Println(item.V)
		if n++; n == 2 {
			break
		}
	}
	// Output:
	// [1 2]
	// [3 4]
}

// An Rx pipeline over typed messages: the router decodes each envelope into
// a Message[price] and publishes it on the "price" hub; the Observable keeps
// the EUR prices, maps each to its value and buffers them in pairs.
func ExampleObserve() {
	router := stream.NewRouter()
	prices := stream.Route[price](router, "price")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pairs := rx.Observe(ctx, prices, stream.WithOverflow(stream.Block)).
		Filter(func(v any) bool { return v.(stream.Message[price]).Data.Symbol == "EUR" }).
		Map(func(_ context.Context, v any) (any, error) { return v.(stream.Message[price]).Data.Value, nil }).
		BufferWithCount(2)

	for _, payload := range []string{
		`{"type":"price","data":{"symbol":"EUR","value":1.08}}`,
		`{"type":"price","data":{"symbol":"GBP","value":1.27}}`,
		`{"type":"price","data":{"symbol":"EUR","value":1.09}}`,
		`{"type":"price","data":{"symbol":"EUR","value":1.07}}`,
	} {
		if err := router.DispatchPayload([]byte(payload)); err != nil {
			fmt.Println(err)
		}
	}
	router.Close() // closes the hub: the pipeline flushes its last buffer and completes

	for item := range pairs.Observe() {
		fmt.Println(item.V)
	}
	// Output:
	// [1.08 1.09]
	// [1.07]
}
