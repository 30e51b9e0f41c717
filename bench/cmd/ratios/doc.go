// Command ratios reads `go test -bench` output on stdin and prints a
// markdown table per benchmark family: for every figure, the median ns/op
// over the runs (-count), its spread, allocs/op, the other metrics the
// benchmark reported, and the ratio to the reference implementation of the
// same group (reference ns/op divided by the figure's ns/op, so above 1 is
// faster than the reference).
//
// # Names
//
// Benchmark names must look like BenchmarkFamily/key=value/.../impl=name,
// optionally followed by the -GOMAXPROCS suffix go test adds. The impl
// segment names the implementation; the other segments after the family
// form the group (size=16B, goroutines=8) that figures are compared within.
// Lines that do not match are ignored, apart from the goos, goarch, pkg and
// cpu headers, which are repeated above the tables.
//
// # Usage
//
//	go test -run '^$' -bench . -count 5 ./... | tee out/bench.txt
//	go run ./cmd/ratios < out/bench.txt > out/ratios.md
//	go run ./cmd/ratios -ref raw-gobwas < out/bench.txt
//	go run ./cmd/ratios -plain < out/idle.txt
//
// -plain drops the ratios and the spread: for benchmarks that are not
// loops (BenchmarkIdle, BenchmarkStorm, BenchmarkDetect), each figure is
// the median of every metric, in the order the benchmark reported them.
//
// It exits with status 1 when the input holds no benchmark result.
package main
