package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
)

// stormParams are the timings of BenchmarkStorm: the server is down for
// down, and every client reconnects with exponential backoff from initial
// by 1.6 up to 30 s (tether's default parameters in the full run), under
// each jitter mode in turn.
type stormParams struct {
	down    time.Duration
	initial time.Duration
	bin     time.Duration // the herd window and the histogram's bin
}

var (
	stormFull  = stormParams{down: 3 * time.Second, initial: time.Second, bin: 100 * time.Millisecond}
	stormSmoke = stormParams{down: 300 * time.Millisecond, initial: 100 * time.Millisecond, bin: 10 * time.Millisecond}
)

// stormJitters are the jitter modes BenchmarkStorm compares.
var stormJitters = []policy.Jitter{policy.JitterNone, policy.JitterFull, policy.JitterEqual, policy.JitterDecorrelated}

// stormResult is what one storm measured.
type stormResult struct {
	jitter    policy.Jitter
	reconnect []time.Duration // per client: from its drop to its next Open, sorted
	opens     []time.Duration // the Open transitions, since the crash
	dials     []time.Duration // the dial attempts after the drop, since the crash
}

// BenchmarkStorm measures a reconnect storm: N tether clients connected to
// one loopback server, which crashes (it closes its listener and every
// connection), stays down (connections are refused) and comes back on the
// same port. For each jitter mode, with the same exponential parameters,
// it records each client's reconnect time, from its drop transition to its
// next Open (both read from Client.Trace, so from the transitions' own
// timestamps). It ignores b.N.
//
// Metrics: the p50, p90, p99 and max reconnect times (ms), the herd (the
// most Opens, and the most dial attempts, within any window of 100 ms) and
// the dial attempts per client. ns/op is the whole storm: from the crash
// until the last client is Open again. PNG plots (a histogram per mode, and the
// distributions of all modes together) go to TETHER_BENCH_IMG_DIR, or to a
// temporary directory.
//
// N is TETHER_BENCH_STORM_CLIENTS (default 20, or 1000 with
// TETHER_BENCH_FULL). With TETHER_BENCH_FULL set the server stays down 3 s
// and the backoff starts at 1 s; otherwise 300 ms and 100 ms, with windows
// and bins of 10 ms instead of 100 ms.
func BenchmarkStorm(b *testing.B) {
	p := stormSmoke
	if full() {
		p = stormFull
	}
	n := size(b, stormClientsEnv, 20, 1000)
	dir := os.Getenv(imgDirEnv)
	if dir == "" {
		dir = b.TempDir()
	}
	var results []stormResult
	for _, j := range stormJitters {
		b.Run(fmt.Sprintf("clients=%d/impl=jitter-%s", n, j), func(b *testing.B) {
			r := runStorm(b, n, j, p)
			reportStorm(b, r, p)
			results = append(results, r)
		})
	}
	if len(results) == 0 {
		return
	}
	var last time.Duration // the time axis of every histogram ends here
	for _, r := range results {
		last = max(last, r.opens[len(r.opens)-1])
	}
	for _, r := range results {
		if err := plotStormHistogram(dir, r, p, last); err != nil {
			b.Fatal(err)
		}
	}
	if err := plotStormCDF(dir, results, p); err != nil {
		b.Fatal(err)
	}
	b.Logf("storm plots written to %s", dir)
}

func runStorm(b *testing.B, n int, jitter policy.Jitter, p stormParams) stormResult {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	srv := newWSServer(ln)
	defer func() { srv.close() }()

	pol, err := policy.New(policy.Exponential{
		Initial:    p.initial,
		Max:        policy.DefaultMax,
		Multiplier: policy.DefaultMultiplier,
		Jitter:     jitter,
	}, policy.WithMinUptime(0))
	if err != nil {
		b.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var opens atomic.Int64
	reopened := make(chan struct{})
	clients := make([]*tether.Client[[]byte], n)
	defer func() {
		_ = parallel(n, idleDialers, func(i int) error {
			if clients[i] != nil {
				_ = clients[i].Close(ctx)
			}
			return nil
		})
	}()
	err = parallel(n, idleDialers, func(i int) error {
		c, err := tether.New[[]byte]("ws://"+addr+"/",
			tether.WithReconnect(pol),
			tether.WithAutoConnect(false),
			tether.OnOpen(func(fsm.Transition) {
				if opens.Add(1) == int64(2*n) {
					close(reopened)
				}
			}),
		)
		if err != nil {
			return err
		}
		clients[i] = c
		return c.Connect(ctx)
	})
	if err != nil {
		b.Fatalf("connecting %d clients: %v", n, err)
	}

	b.ResetTimer()
	crash := time.Now()
	srv.close()
	select {
	case <-time.After(p.down):
	case <-ctx.Done():
		b.Fatal(ctx.Err())
	}
	if ln, err = net.Listen("tcp", addr); err != nil {
		b.Fatalf("listening again on %s: %v", addr, err)
	}
	srv = newWSServer(ln)
	select {
	case <-reopened:
	case <-ctx.Done():
		b.Fatalf("jitter %s: %d of %d clients reconnected", jitter, opens.Load()-int64(n), n)
	}
	b.StopTimer()

	r := stormResult{jitter: jitter}
	for _, c := range clients {
		d, opened, dials, ok := reconnectOf(c.Trace(), crash)
		if !ok {
			b.Fatalf("jitter %s: a client's trace has no drop and reopen: %v", jitter, c.Trace())
		}
		r.reconnect = append(r.reconnect, d)
		r.opens = append(r.opens, opened)
		r.dials = append(r.dials, dials...)
	}
	slices.Sort(r.reconnect)
	slices.Sort(r.opens)
	slices.Sort(r.dials)
	return r
}

// reconnectOf finds, in a client's trace, its last drop from Open after
// crash and the Open that followed: it returns the time between them, the
// Open's time and the times of the dial attempts in between, both relative
// to crash.
func reconnectOf(trace []fsm.Transition, crash time.Time) (d, opened time.Duration, dials []time.Duration, ok bool) {
	drop := -1
	for i, t := range trace {
		if t.From == fsm.Open && t.To != fsm.Open && !t.Time.Before(crash) {
			drop = i
		}
	}
	if drop < 0 {
		return 0, 0, nil, false
	}
	for _, t := range trace[drop+1:] {
		switch t.To {
		case fsm.Connecting:
			dials = append(dials, t.Time.Sub(crash))
		case fsm.Open:
			return t.Time.Sub(trace[drop].Time), t.Time.Sub(crash), dials, true
		}
	}
	return 0, 0, nil, false
}

func reportStorm(b *testing.B, r stormResult, p stormParams) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(durPercentile(r.reconnect, 50)), "p50-ms")
	b.ReportMetric(ms(durPercentile(r.reconnect, 90)), "p90-ms")
	b.ReportMetric(ms(durPercentile(r.reconnect, 99)), "p99-ms")
	b.ReportMetric(ms(r.reconnect[len(r.reconnect)-1]), "max-ms")
	b.ReportMetric(float64(peakWindow(r.opens, p.bin)), "peak-opens/"+p.bin.String())
	b.ReportMetric(float64(peakWindow(r.dials, p.bin)), "peak-dials/"+p.bin.String())
	b.ReportMetric(float64(len(r.dials))/float64(len(r.reconnect)), "dials/client")
}

// durPercentile returns the p-th percentile of sorted (nearest rank).
func durPercentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

// peakWindow returns the largest number of sorted times within any window
// [t, t+w).
func peakWindow(sorted []time.Duration, w time.Duration) int {
	peak, lo := 0, 0
	for hi, t := range sorted {
		for t-sorted[lo] >= w {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak
}
