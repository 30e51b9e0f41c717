// Package bench holds side-by-side benchmarks of tether and other Go
// WebSocket clients. It is its own module, so the comparison libraries never
// reach the library's go.mod; it has no exported API, only _test.go files.
//
// # What is measured
//
//   - BenchmarkReceive/size=S/impl=I: messages of S bytes read by client I
//     from a loopback TCP server that writes pre-encoded frames as fast as it
//     can. ns/op is the cost of one message.
//   - BenchmarkSend/goroutines=G/impl=I: 64-byte messages written by G
//     goroutines to a loopback server that discards them; writes/msg counts
//     Write calls on the client's net.Conn per message.
//   - BenchmarkEcho/size=S/impl=I: one message written and its echo read back,
//     with the p50-ns and p99-ns of the round trips.
//
// impl=raw-gobwas is the reference every other figure is divided by: a
// hand-written loop over github.com/gobwas/ws with reused buffers. Every
// figure comes from the same run; nothing is hard-coded.
//
// # Adding an implementation
//
// The implementations are tables: receivers (receivers_test.go), senders
// (senders_test.go) and echoers (echoers_test.go). Add an entry with a
// regular name and the benchmarks, the ratios tool and scripts/bench.sh pick
// it up.
//
// # Running
//
//	make bench        # scripts/bench.sh: count=5, writes bench/out/
//	make bench-smoke  # every benchmark once, to keep them compiling
//
// go run ./cmd/ratios < out/bench.txt turns `go test -bench` output into a
// markdown table of medians and ratios against raw-gobwas.
package bench
