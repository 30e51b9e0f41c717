package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"testing"
	"time"
)

// The heartbeat of BenchmarkIdle, the same for every client kind: a probe
// every interval, answered within the pong timeout. Shorter than the
// defaults (15 s and 10 s) so that every connection has completed a round
// trip before it is measured, within a few seconds; shorter still in the
// smoke run.
var (
	idleHeartbeatFull  = heartbeat{interval: 2 * time.Second, pongTimeout: time.Second}
	idleHeartbeatSmoke = heartbeat{interval: 500 * time.Millisecond, pongTimeout: 250 * time.Millisecond}
)

// idleDialers is how many connections are being opened at once: enough to
// keep both processes busy, few enough for the listen backlog.
const idleDialers = 64

// fdReserve is how many file descriptors the benchmark process keeps for
// everything but the connections under test.
const fdReserve = 256

// BenchmarkIdle measures what an open, idle connection with the heartbeat
// on costs its client: N connections of each client kind to a server in a
// separate process (a helper, see helper_test.go), so only the client's
// memory and goroutines are in the figures. It ignores b.N: each run opens
// N connections, waits until every one has completed a heartbeat round
// trip (and the client kind's settle time, if any, has passed since the
// first was opened), collects garbage twice and reads runtime.MemStats.
//
// Metrics, each a difference from before the first connection was opened,
// divided by N:
//
//	B/conn           HeapInuse + StackInuse (spans in use, fragmentation included)
//	live-B/conn      HeapAlloc + StackInuse (live objects only)
//	stack-B/conn     StackInuse alone (the goroutines' stacks)
//	goroutines/conn  runtime.NumGoroutine
//	reconnects       reconnects during the run, in total (0 for a valid figure)
//	ns/op            wall time to open all N connections, divided by N
//
// With TETHER_BENCH_IDLE_PROFILE set to a directory, a heap profile of
// each client kind is written there as idle-<impl>.heap while its
// connections are open (go tool pprof -sample_index=inuse_space).
//
// N is TETHER_BENCH_IDLE_CONNS (default 50, or 10000 with
// TETHER_BENCH_FULL), lowered when the process's open-file limit is too low
// for it (the benchmark logs a note).
func BenchmarkIdle(b *testing.B) {
	n, hb := idleSetup(b)
	for _, ic := range idleClients {
		b.Run(fmt.Sprintf("conns=%d/impl=%s", n, ic.name), func(b *testing.B) {
			benchIdle(b, ic, n, hb)
		})
	}
}

// idleSetup returns how many idle connections to open (lowered to fit the
// open-file limit) and the heartbeat they run.
func idleSetup(b *testing.B) (int, heartbeat) {
	b.Helper()
	n := size(b, idleConnsEnv, 50, 10000)
	hb := idleHeartbeatSmoke
	if full() {
		hb = idleHeartbeatFull
	}
	limit, err := fdLimit()
	if err != nil {
		b.Fatal(err)
	}
	if limit < uint64(n)+fdReserve {
		fitted := max(1, int(limit)-fdReserve)
		b.Logf("NOTE: the open-file limit is %d: measuring %d connections instead of %d", limit, fitted, n)
		n = fitted
	}
	return n, hb
}

func benchIdle(b *testing.B, ic idleClient, n int, hb heartbeat) {
	srv := startHelper(b, ic.server, hb.interval)
	defer srv.stop()
	url := "ws://" + srv.addr + ic.path
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Everything the benchmark itself keeps per connection is allocated
	// before the baseline.
	conns := make([]idleConn, n)
	ponged := make([]atomic.Bool, n)
	onPong := make([]func(), n)
	var pongs, reopens atomic.Int64
	all := make(chan struct{})
	for i := range onPong {
		onPong[i] = func() {
			if !ponged[i].Swap(true) && pongs.Add(1) == int64(n) {
				close(all)
			}
		}
	}
	onReopen := func() { reopens.Add(1) }
	closeAll := func() {
		_ = parallel(n, idleDialers, func(i int) error {
			if conns[i] != nil {
				conns[i].close()
			}
			return nil
		})
	}
	defer closeAll()

	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()

	b.ResetTimer()
	start := time.Now()
	err := parallel(n, idleDialers, func(i int) error {
		c, err := ic.open(ctx, url, hb, idleHooks{onPong: onPong[i], onReopen: onReopen})
		conns[i] = c
		return err
	})
	opened := time.Since(start)
	if err != nil {
		b.Fatalf("%s: opening %d connections: %v", ic.name, n, err)
	}
	select {
	case <-all:
	case <-ctx.Done():
		b.Fatalf("%s: %d of %d connections completed a heartbeat round trip", ic.name, pongs.Load(), n)
	}
	if wait := ic.settle - time.Since(start); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			b.Fatal(ctx.Err())
		}
	}
	b.StopTimer()

	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	g1 := runtime.NumGoroutine()

	if dir := os.Getenv(idleProfileEnv); dir != "" {
		writeHeapProfile(b, filepath.Join(dir, "idle-"+ic.name+".heap"))
	}

	perConn := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	b.ReportMetric(float64(opened.Nanoseconds())/float64(n), "ns/op")
	b.ReportMetric(perConn(after.HeapInuse+after.StackInuse, before.HeapInuse+before.StackInuse), "B/conn")
	b.ReportMetric(perConn(after.HeapAlloc+after.StackInuse, before.HeapAlloc+before.StackInuse), "live-B/conn")
	b.ReportMetric(perConn(after.StackInuse, before.StackInuse), "stack-B/conn")
	b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/conn")
	b.ReportMetric(float64(reopens.Load()), "reconnects")
}

// writeHeapProfile writes the heap profile, as of the last garbage
// collection, to path.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
