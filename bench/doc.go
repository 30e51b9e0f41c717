// Package bench holds side-by-side benchmarks of tether and other Go
// WebSocket clients. It is its own module, so the comparison libraries never
// reach the library's go.mod; it has no exported API, only _test.go files.
//
// # What is measured
//
// Loops (ns/op is the cost of one operation; b.N is honoured):
//
//   - BenchmarkReceive/size=S/impl=I: messages of S bytes read by client I
//     from a loopback TCP server that writes pre-encoded frames as fast as it
//     can. ns/op is the cost of one message. The tether-* rows (except
//     tether-transport) read through a tether.Client[[]byte] with the
//     Client's default options (only the transport's dialer is replaced, to
//     drop the connection at close): -raw with OnRaw (borrowed payload, on
//     the reader goroutine), -all with the README's loop over
//     Messages(ctx).All(), -chan from Messages(ctx).C(), -onmessage with
//     OnMessage, -rx through rx.Messages. raw-gobwas-owned is the raw
//     loop plus a copy of each message into memory of its own: the least
//     any consumer that owns its bytes pays.
//   - BenchmarkSend/goroutines=G/impl=I: 64-byte messages written by G
//     goroutines to a loopback server that discards them; writes/msg counts
//     Write calls on the client's net.Conn per message. tether-client is
//     Client.Send of a []byte with default options, tether-client-binary
//     Client.SendBinary with default options; tether-client-64k is Send
//     with a 64 KiB write buffer, no heartbeat and no reconnect.
//   - BenchmarkEcho/size=S/impl=I: one message written and its echo read back,
//     with the p50-ns and p99-ns of the round trips.
//
// One-shot figures (b.N is ignored: each run does a fixed amount of work;
// tiny sizes by default, full sizes with TETHER_BENCH_FULL=1):
//
//   - BenchmarkIdle/conns=N/impl=I: heap, stack and goroutines per idle open
//     connection with the heartbeat on, for tether and idiomatic gorilla,
//     coder and centrifuge-go clients, against a server in another process
//     (this test binary started again as a helper), so only the client is
//     measured. 10,000 connections in the full run.
//   - BenchmarkStorm/clients=N/impl=jitter-J: a server crash and restart
//     under N tether clients; per jitter mode, the reconnect times and the
//     herd (the most opens and dials within 100 ms), with PNG plots. 1,000
//     clients in the full run.
//   - BenchmarkDetect/interval=I/pong=P/impl=tether: time from a black hole
//     (a proxy that starts dropping every byte) to the heartbeat_timeout
//     transition. 20 trials in the full run.
//
// impl=raw-gobwas is the reference every other figure is divided by: a
// hand-written loop over github.com/gobwas/ws with reused buffers. Every
// figure comes from the same run; nothing is hard-coded.
//
// # Adding an implementation
//
// The implementations are tables: receivers (receivers_test.go), senders
// (senders_test.go), echoers (echoers_test.go) and idleClients
// (idle_clients_test.go). Add an entry with a regular name and the
// benchmarks, the ratios tool and scripts/bench.sh pick it up.
//
// # Running
//
//	make bench        # scripts/bench.sh: count=5, full sizes; writes bench/out/ and docs/img/
//	make bench-smoke  # every benchmark once at tiny sizes, to keep them compiling
//
// go run ./cmd/ratios < out/bench.txt turns `go test -bench` output into a
// markdown table of medians and ratios against raw-gobwas; with -plain, a
// table of every metric without ratios (for the one-shot figures).
//
// # Environment
//
//	TETHER_BENCH_FULL=1            full sizes and timings of Idle, Storm and Detect
//	TETHER_BENCH_IDLE_CONNS=N      connections per client kind in Idle
//	TETHER_BENCH_STORM_CLIENTS=N   clients in Storm
//	TETHER_BENCH_DETECT_TRIALS=N   trials in Detect
//	TETHER_BENCH_IMG_DIR=dir       where Storm writes its PNGs (else a temporary directory)
//	TETHER_BENCH_IDLE_PROFILE=dir  where Idle writes a heap profile per client kind
package bench
