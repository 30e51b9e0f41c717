package bench

import (
	"os"
	"strconv"
	"sync"
	"testing"
)

// Environment variables that size the benchmarks which are not loops (b.N
// is ignored: each run does one fixed amount of work). Without them the
// sizes are tiny, so `make bench-smoke` stays fast; scripts/bench.sh sets
// TETHER_BENCH_FULL for the real ones.
const (
	// fullEnv, when set (to anything), selects the full sizes and timings:
	// 10,000 idle connections, 1,000 storm clients, 20 detection trials.
	fullEnv = "TETHER_BENCH_FULL"
	// idleConnsEnv overrides the connections per client kind in
	// BenchmarkIdle (smoke 50, full 10000).
	idleConnsEnv = "TETHER_BENCH_IDLE_CONNS"
	// stormClientsEnv overrides the clients in BenchmarkStorm (smoke 20,
	// full 1000).
	stormClientsEnv = "TETHER_BENCH_STORM_CLIENTS"
	// detectTrialsEnv overrides the trials in BenchmarkDetect (smoke 3,
	// full 20).
	detectTrialsEnv = "TETHER_BENCH_DETECT_TRIALS"
	// idleProfileEnv: a directory where BenchmarkIdle writes a heap profile
	// per client kind.
	idleProfileEnv = "TETHER_BENCH_IDLE_PROFILE"
	// imgDirEnv: where BenchmarkStorm writes its PNG plots (bench.sh:
	// docs/img). Unset, they go to a temporary directory and are removed.
	imgDirEnv = "TETHER_BENCH_IMG_DIR"
)

// full reports whether TETHER_BENCH_FULL asks for the full sizes.
func full() bool { return os.Getenv(fullEnv) != "" }

// size returns the size of a benchmark: the integer in the environment
// variable name when set, otherwise full or smoke as full() says.
func size(tb testing.TB, name string, smoke, fullSize int) int {
	tb.Helper()
	if full() {
		return envInt(tb, name, fullSize)
	}
	return envInt(tb, name, smoke)
}

// envInt returns the positive integer in the environment variable name,
// or def when it is unset; anything else fails the benchmark.
func envInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// parallel runs f(i) for every i in [0, n) on at most workers goroutines
// and returns the first error.
func parallel(n, workers int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		next  = make(chan int)
		once  sync.Once
		first error
	)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
