package stream_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/tether-go/tether/stream"
)

func ExampleHub() {
	hub := stream.NewHub[string]()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sub := hub.Subscribe(ctx, stream.WithBuffer(16))
	hub.Publish("connecting")
	hub.Publish("open")
	hub.Close() // subscribers read what is queued, then their channel closes

	for v := range sub.All() {
		fmt.Println(v)
	}
	fmt.Println("err:", sub.Err())
	// Output:
	// connecting
	// open
	// err: <nil>
}

func ExampleOverflow() {
	hub := stream.NewHub[int](stream.OnAnyDrop(func(sub stream.SubInfo, v int) {
		fmt.Printf("%s dropped %d (%s)\n", sub.Name, v, sub.Overflow)
	}))
	ctx := context.Background()
	oldest := hub.Subscribe(ctx, stream.WithName("fresh"), stream.WithBuffer(2), stream.WithOverflow(stream.DropOldest))
	newest := hub.Subscribe(ctx, stream.WithName("first"), stream.WithBuffer(2), stream.WithOverflow(stream.DropNewest))
	slow := hub.Subscribe(ctx, stream.WithName("strict"), stream.WithBuffer(2), stream.WithOverflow(stream.Disconnect))

	for i := 1; i <= 3; i++ { // nobody reads: the third value overflows
		hub.Publish(i)
	}
	hub.Close()

	for _, s := range []*stream.Subscription[int]{oldest, newest, slow} {
		var kept []int
		for v := range s.All() {
			kept = append(kept, v)
		}
		fmt.Println(s.Info().Name, "kept", kept, "dropped", s.Dropped(), "slow:", errors.Is(s.Err(), stream.ErrSlowSubscriber))
	}
	// Output:
	// fresh dropped 1 (drop-oldest)
	// first dropped 3 (drop-newest)
	// strict dropped 3 (disconnect)
	// fresh kept [2 3] dropped 1 slow: false
	// first kept [1 2] dropped 1 slow: false
	// strict kept [1 2] dropped 1 slow: true
}

type price struct {
	Symbol string  `json:"symbol"`
	Value  float64 `json:"value"`
}

func ExampleRouter() {
	type alert struct {
		Level string `json:"level"`
	}
	router := stream.NewRouter()
	stream.Handle(router, "alert", func(m stream.Message[alert]) {
		fmt.Println("alert:", m.Data.Level)
	})

	fmt.Println(router.DispatchPayload([]byte(`{"type":"alert","data":{"level":"warn"}}`)))

	err := router.DispatchPayload([]byte(`{"type":"alert","data":{"level":7}}`))
	var de *stream.DecodeError
	fmt.Println(errors.As(err, &de), de.Type, de.Codec)

	err = router.DispatchPayload([]byte(`{"type":"drift","data":{}}`))
	fmt.Println(errors.Is(err, stream.ErrUnknownType))
	// Output:
	// alert: warn
	// <nil>
	// true alert json
	// true
}

func ExampleDecode() {
	msg, err := stream.Decode[stream.Message[price]](stream.JSON, []byte(`{"type":"price","data":{"symbol":"EUR","value":1.08}}`))
	fmt.Println(msg.Type, msg.Data.Symbol, msg.Data.Value, err)

	payload, binary, err := stream.Encode(stream.JSON, stream.Message[price]{Type: "price", Data: price{"EUR", 1.1}})
	fmt.Println(string(payload), binary, err)
	// Output:
	// price EUR 1.08 <nil>
	// {"type":"price","data":{"symbol":"EUR","value":1.1}} false <nil>
}
