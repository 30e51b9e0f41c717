package bench

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"testing"
	"time"
)

// echoSize is the payload size of BenchmarkEcho.
const echoSize = 64

// BenchmarkEcho measures round trips over loopback: one message written,
// its echo read back, for every entry of echoClients. One op is one round
// trip; p50-ns and p99-ns are percentiles of the individual round trips.
func BenchmarkEcho(b *testing.B) {
	payload := bytes.Repeat([]byte{'z'}, echoSize)
	for _, e := range echoClients {
		b.Run("size="+strconv.Itoa(echoSize)+"B/impl="+e.name, func(b *testing.B) {
			benchEcho(b, e, payload)
		})
	}
}

func benchEcho(b *testing.B, e echoClient, payload []byte) {
	srv := startServer(b, echoer(4096))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := e.open(ctx, srv.url)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	rtts := make([]int64, b.N)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range rtts {
		start := time.Now()
		if err := s.roundTrip(payload); err != nil {
			b.Fatal(err)
		}
		rtts[i] = int64(time.Since(start))
	}
	b.StopTimer()
	slices.Sort(rtts)
	b.ReportMetric(float64(percentile(rtts, 50)), "p50-ns")
	b.ReportMetric(float64(percentile(rtts, 99)), "p99-ns")
}

// percentile returns the p-th percentile of sorted (nearest rank).
func percentile(sorted []int64, p int) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}
