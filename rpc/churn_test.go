package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/rpc/jsonrpc"
	"github.com/tether-go/tether/transport/memory"
)

// TestChurnNeverRunsALostRequest: requests from 8 goroutines, half of them
// idempotent, while the server drops the connection after a random number
// of requests, 25 times (real clock, reconnect after 1 ms; the send buffer
// of 1,024 messages fills at times). Every request
// ends; a request that is not idempotent reaches the server at most once,
// and never after it was reported lost; an idempotent one reaches each
// connection at most once. An outside review found requests reported lost
// and then run, and idempotent ones written twice on one connection; this
// test also found the watcher writing retried requests into a full send
// buffer before Open, while the stage before Open waited for the watcher:
// every request then timed out.
func TestChurnNeverRunsALostRequest(t *testing.T) {
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	p, err := policy.New(policy.Constant(time.Millisecond))
	require.NoError(t, err)
	rc := rpc.New(jsonrpc.New("test"), rpc.WithTimeout(20*time.Second))
	tc, err := tether.New[string]("memory://churn", append([]tether.Option{tether.WithTransport(srv.Transport()),
		tether.WithoutHeartbeat(), tether.WithReconnect(p)}, rc.Options()...)...)
	require.NoError(t, err)
	require.True(t, rc.Bind(tc))

	type arrival struct {
		conn int
		at   time.Time
	}
	var mu sync.Mutex
	seen := map[uint64][]arrival{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*deadline)
	defer cancel()
	var serving sync.WaitGroup
	serving.Go(func() {
		rnd := rand.New(rand.NewPCG(1, 2))
		for conn := 1; ; conn++ {
			sc, err := srv.Accept(ctx)
			if err != nil {
				return
			}
			limit := 20 + rnd.IntN(150)
			if conn > 25 {
				limit = 1 << 30 // the last connection stays
			}
			for got := 0; ; got++ {
				m, err := sc.Recv(ctx)
				if err != nil {
					break
				}
				var req msg
				if json.Unmarshal(m.Payload, &req) != nil {
					continue
				}
				mu.Lock()
				seen[req.ID] = append(seen[req.ID], arrival{conn, time.Now()})
				mu.Unlock()
				if got == limit {
					sc.Drop()
					break
				}
				if conn > 25 || rnd.IntN(4) != 0 { // some stay unanswered until the drop
					b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": req.ID})
					_ = sc.Send(ctx, 1, b)
				}
			}
		}
	})

	const goroutines, each = 8, 300
	type outcome struct {
		id         uint64
		idempotent bool
		err        error
		ended      time.Time
	}
	out := make(chan outcome, goroutines*each)
	var senders sync.WaitGroup
	for g := range goroutines {
		senders.Go(func() {
			for i := range each {
				var opts []rpc.CallOption
				idem := (g+i)%2 == 0
				if idem {
					opts = append(opts, rpc.Idempotent())
				}
				r := rc.Go(ctx, "work", i, opts...)
				go func() {
					<-r.Done()
					_, err := r.Result()
					out <- outcome{r.ID(), idem, err, time.Now()}
				}()
			}
		})
	}
	senders.Wait()
	counts := map[string]int{}
	for range goroutines * each {
		var o outcome
		select {
		case o = <-out:
		case <-ctx.Done():
			require.FailNow(t, "a request never ended")
		}
		mu.Lock()
		arrivals := append([]arrival(nil), seen[o.id]...)
		mu.Unlock()
		switch {
		case o.err == nil:
			counts["replied"]++
		case errors.Is(o.err, rpc.ErrLost):
			counts["lost"]++
		default:
			counts["other"]++
			if counts["other"] <= 3 {
				assert.NoError(t, o.err, "request %d: a reply, or lost with its connection", o.id)
			}
		}
		byConn := map[int]int{}
		for _, a := range arrivals {
			byConn[a.conn]++
			assert.LessOrEqual(t, byConn[a.conn], 1, "request %d written twice on connection %d", o.id, a.conn)
			if !o.idempotent && errors.Is(o.err, rpc.ErrLost) {
				assert.False(t, a.at.After(o.ended), "request %d reached connection %d after it was reported lost", o.id, a.conn)
			}
		}
		if !o.idempotent {
			assert.LessOrEqual(t, len(arrivals), 1, "request %d is not idempotent: sent %d times", o.id, len(arrivals))
		}
	}
	t.Logf("outcomes: %v", counts)
	require.NoError(t, tc.Close(ctx))
	require.NoError(t, rc.Close())
	cancel()
	serving.Wait()
}
