package rpc_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/rpc/jsonrpc"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// BenchmarkRequestMachine is what a request's machine costs: made from the
// definition compiled once (as the client does), one transition to
// Replied with the client's hook recording it.
func BenchmarkRequestMachine(b *testing.B) {
	c, err := fsm.Compile(rpc.RequestDef())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m, err := c.New()
		if err != nil {
			b.Fatal(err)
		}
		var trace []rpc.RequestTransition
		m.AddHook(func(tr rpc.RequestTransition) (fsm.InputOf[rpc.RequestEvent], bool) {
			trace = append(trace, tr)
			return fsm.InputOf[rpc.RequestEvent]{}, false
		})
		if _, err := m.Fire(ctx, fsm.InputOf[rpc.RequestEvent]{Event: rpc.EventReply, Transport: "sum id 1"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequestMachineNewOf is the same with fsm.NewOf, which compiles
// the definition on every request.
func BenchmarkRequestMachineNewOf(b *testing.B) {
	def := rpc.RequestDef()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m, err := fsm.NewOf(def)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Fire(ctx, fsm.InputOf[rpc.RequestEvent]{Event: rpc.EventReply, Transport: "sum id 1"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTrip is one whole request, one at a time, through the rpc
// client, a tether client and the memory transport to a server goroutine
// that answers at once: encode, machine, send, read, classify, match,
// reply.
func BenchmarkRoundTrip(b *testing.B) {
	srv, err := memory.NewServer(memory.WithAutoAccept())
	if err != nil {
		b.Fatal(err)
	}
	rc := rpc.New(jsonrpc.New("bench"))
	tc, err := tether.New[string]("memory://bench", append(rc.Options(), tether.WithTransport(srv.Transport()),
		tether.WithoutHeartbeat())...)
	if err != nil {
		b.Fatal(err)
	}
	rc.Bind(tc)
	ctx := context.Background()
	if err := tc.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	sc, err := srv.Accept(ctx)
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		for {
			m, err := sc.Recv(ctx)
			if err != nil {
				return
			}
			var req struct {
				ID uint64 `json:"id"`
			}
			_ = json.Unmarshal(m.Payload, &req)
			reply := `{"jsonrpc":"2.0","id":` + strconv.FormatUint(req.ID, 10) + `,"result":1}`
			if sc.Send(ctx, transport.Text, []byte(reply)) != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rc.Request(ctx, "one", nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	_ = tc.Close(ctx)
	_ = rc.Close()
	<-served
}
