package bench

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// sendSize is the payload size of BenchmarkSend.
const sendSize = 64

// BenchmarkSend measures writing 64-byte binary messages to a loopback
// server that discards them, from 1 and from 8 goroutines, for every entry
// of senders. One op is one message; writes/msg is the number of Write
// calls on the client's net.Conn per message (the handshake not counted);
// cpu-ns/msg is the process's CPU time per message, the discarding server's
// included (on a machine whose cores are all busy, wall time follows it).
func BenchmarkSend(b *testing.B) {
	payload := bytes.Repeat([]byte{'y'}, sendSize)
	for _, g := range []int{1, 8} {
		for _, s := range senders {
			b.Run("goroutines="+strconv.Itoa(g)+"/impl="+s.name, func(b *testing.B) {
				benchSend(b, s, g, payload)
			})
		}
	}
}

func benchSend(b *testing.B, sd sender, goroutines int, payload []byte) {
	srv := startServer(b, discarder())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var writes atomic.Int64
	s, err := sd.open(ctx, srv.url, countingDialer(&writes))
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	writes.Store(0)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	err = s.send(b.N, goroutines, payload)
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/msg")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(writes.Load())/float64(b.N), "writes/msg")
}
