package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/rpc/jsonrpc"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// exampleServer answers JSON-RPC 2.0 on one memory connection: "sum" adds
// its params, "test_subscribe" answers the subscription id "s<n>" (n
// counts the subscribe requests), then sends one notification "hello".
func exampleServer(ctx context.Context, sc *memory.ServerConn) {
	subs := 0
	for {
		m, err := sc.Recv(ctx)
		if err != nil {
			return
		}
		var req struct {
			ID     uint64          `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		_ = json.Unmarshal(m.Payload, &req)
		send := func(v any) {
			b, _ := json.Marshal(v)
			_ = sc.Send(ctx, transport.Text, b)
		}
		switch req.Method {
		case "sum":
			var xs []int
			_ = json.Unmarshal(req.Params, &xs)
			total := 0
			for _, x := range xs {
				total += x
			}
			send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": total})
		case "test_subscribe":
			subs++
			key := fmt.Sprintf("s%d", subs)
			send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": key})
			send(map[string]any{"jsonrpc": "2.0", "method": "test_subscription",
				"params": map[string]any{"subscription": key, "result": "hello"}})
		}
	}
}

// exampleSetup builds an rpc client over a tether client on the memory
// transport and a fake clock, as the examples share it.
func exampleSetup() (*rpc.Client, *tether.Client[string], *memory.Server, *tethertest.FakeClock) {
	srv, _ := memory.NewServer(memory.WithAutoAccept())
	clk := tethertest.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rc := rpc.New(jsonrpc.New("test"), rpc.WithClock(clk))
	retry, _ := policy.New(policy.Constant(time.Second), policy.WithFloorSpread(0))
	tc, err := tether.New[string]("memory://example", append(rc.Options(), tether.WithReconnect(retry),
		tether.WithTransport(srv.Transport()), tether.WithClock(clk), tether.WithoutHeartbeat())...)
	if err != nil {
		panic(err)
	}
	rc.Bind(tc)
	return rc, tc, srv, clk
}

// A request's trace: its machine went from Pending to Replied, labelled
// with its method and id.
func ExampleRequest_Trace() {
	rc, tc, srv, _ := exampleSetup()
	ctx := context.Background()
	defer rc.Close()
	defer tc.Close(ctx)
	go func() {
		if sc, err := srv.Accept(ctx); err == nil {
			exampleServer(ctx, sc)
		}
	}()

	req := rc.Go(ctx, "sum", []int{1, 2, 3})
	result, err := req.Wait(ctx)
	fmt.Println(string(result), err)
	for _, tr := range req.Trace() {
		fmt.Println(tr)
	}
	fmt.Print(rpc.RequestTraceMermaid(req.Trace()))
	// Output:
	// 6 <nil>
	// #0 Pending --none--> Pending
	// #1 Pending --reply--> Replied (sum id 1)
	// sequenceDiagram
	//     participant Pending
	//     participant Replied
	//     participant Malformed
	//     participant TimedOut
	//     participant Lost
	//     participant Cancelled
	//     participant Unsent
	//     Pending->>Replied: 1. reply at +0s, sum id 1
}

// A subscription's trace across a reconnect: made again in the
// Resubscribing stage, before the connection reports ready, and following
// the server's new subscription id.
func ExampleSubscribeTo() {
	rc, tc, srv, clk := exampleSetup()
	ctx := context.Background()
	defer rc.Close()
	defer tc.Close(ctx)
	conns := make(chan *memory.ServerConn, 2)
	go func() {
		for range 2 {
			sc, err := srv.Accept(ctx)
			if err != nil {
				return
			}
			conns <- sc
			go exampleServer(ctx, sc)
		}
	}()

	greetings, err := rpc.SubscribeTo[string](ctx, rc, "greetings", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-greetings.C())

	(<-conns).Drop()             // the connection is lost
	_ = clk.BlockUntil(ctx, 1)   // the reconnect delay is armed
	clk.Step(time.Second)        // and runs out
	fmt.Println(<-greetings.C()) // from the new connection's subscription
	_ = tc.Connect(ctx)

	for _, tr := range greetings.Trace()[1:] {
		fmt.Println(tr.From, "--"+tr.Event.String()+"->", tr.To, "connection", tr.Attempt)
	}
	var stages []fsm.State
	for _, tr := range tc.Trace() {
		stages = append(stages, tr.To)
	}
	fmt.Println(stages)
	greetings.Close()
	// Output:
	// hello
	// hello
	// Subscribing --accepted-> Subscribed connection 0
	// Subscribed --dropped-> Resubscribing connection 0
	// Resubscribing --accepted-> Subscribed connection 1
	// [Idle Connecting Resubscribing Open Waiting Connecting Resubscribing Open]
}
