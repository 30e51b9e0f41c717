package rx_test

import (
	"context"
	"testing"

	"github.com/tether-go/tether/internal/chantest"
	"github.com/tether-go/tether/rx"
	"github.com/tether-go/tether/stream"
)

// tick is a 16-byte value, the size of a small decoded message header (as
// in package stream's benchmarks).
type tick struct {
	Seq   uint64
	Price float64
}

// BenchmarkPublishRxObserve publishes to an Rx subscriber read with an
// Observe loop.
func BenchmarkPublishRxObserve(b *testing.B) {
	h := stream.NewHub[tick]()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := chantest.Consume(rx.Observe(ctx, h, stream.WithOverflow(stream.Block)).Observe())
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Publish(tick{Seq: uint64(i)})
	}
	h.Close()
	<-done
}

// BenchmarkPublishRxMapForEach publishes through FromChannel, Map and
// ForEach.
func BenchmarkPublishRxMapForEach(b *testing.B) {
	h := stream.NewHub[tick]()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sum uint64
	done := rx.Observe(ctx, h, stream.WithOverflow(stream.Block)).
		Map(func(_ context.Context, v any) (any, error) { return v.(tick).Seq, nil }).
		ForEach(func(v any) { sum += v.(uint64) }, func(error) {}, func() {})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Publish(tick{Seq: uint64(i)})
	}
	h.Close()
	<-done
}
