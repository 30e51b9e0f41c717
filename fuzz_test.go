package tether_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// FuzzClientCalls plays a random sequence of user calls (Connect, Send,
// Close, Reconnect) and server actions (send, drop, close, refuse) against
// a scripted server on a fake clock. Whatever the order: no panic, Close
// ends in Closed and leaves nothing running, a Send after Close fails with
// ErrClosed, and no message is reported dropped twice.
//
// fuzz-short: 4000x
func FuzzClientCalls(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 1, 2, 3},
		{1, 1, 0, 6, 5, 7, 0, 1, 3},
		{0, 4, 4, 8, 7, 1, 9, 7, 3, 3},
		{3, 0, 1},
		{0, 6, 6, 5, 7, 7, 7, 1, 2, 4, 3},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		baseline := goleak.IgnoreCurrent()
		srv, err := memory.NewServer(memory.WithAutoAccept())
		if err != nil {
			t.Fatal(err)
		}
		clk := tethertest.NewFakeClock(time.Time{})
		var mu sync.Mutex
		reported := map[uint64]int{}
		c, err := tether.New[Reading]("memory://fuzz", tether.WithTransport(srv.Transport()), tether.WithClock(clk),
			tether.WithAutoConnect(false), tether.WithoutHeartbeat(),
			tether.OnDrop(func(d tether.Drop) { mu.Lock(); reported[d.ID]++; mu.Unlock() }))
		if err != nil {
			t.Fatal(err)
		}
		bg := context.Background()
		var server *memory.ServerConn
		latest := func() *memory.ServerConn {
			ctx, cancel := context.WithTimeout(bg, time.Millisecond)
			defer cancel()
			if sc, err := srv.Accept(ctx); err == nil {
				server = sc
			}
			return server
		}
		for _, op := range ops {
			ctx, cancel := context.WithTimeout(bg, 5*time.Millisecond)
			switch op % 10 {
			case 0:
				_ = c.Connect(ctx)
			case 1:
				_ = c.Send(ctx, "text")
			case 2:
				_ = c.Send(ctx, Reading{Sensor: "s", Value: 1})
			case 3:
				_ = c.Close(ctx)
			case 4:
				_ = c.Reconnect(ctx)
			case 5:
				if sc := latest(); sc != nil {
					sc.Drop()
				}
			case 6:
				if sc := latest(); sc != nil {
					_ = sc.Send(ctx, transport.Text, []byte(`{"sensor":"x","value":2}`))
				}
			case 7:
				clk.StepToNext()
			case 8:
				if sc := latest(); sc != nil {
					sc.Close(4000, "server says")
				}
			case 9:
				srv.Script(memory.Refuse(503, nil, "busy"))
			}
			cancel()
		}
		ctx, cancel := context.WithTimeout(bg, 10*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if st := c.State(); st != fsm.Closed {
			t.Fatalf("state after Close: %s", st)
		}
		if err := c.Send(ctx, "late"); !errors.Is(err, tether.ErrClosed) {
			t.Fatalf("Send after Close: %v", err)
		}
		mu.Lock()
		for id, n := range reported {
			if n > 1 {
				t.Fatalf("message %d reported %d times", id, n)
			}
		}
		mu.Unlock()
		goleak.VerifyNone(t, baseline)
	})
}
