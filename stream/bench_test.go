package stream_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/internal/chantest"
	"github.com/tether-go/tether/stream"
)

// tick is a 16-byte value, the size of a small decoded message header.
type tick struct {
	Seq   uint64
	Price float64
}

// consumeAll drains s with an All loop on a goroutine and returns a channel
// closed when the loop ends.
func consumeAll[T any](s *stream.Subscription[T]) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for range s.All() {
		}
		close(done)
	}()
	return done
}

// BenchmarkChannelHandOff is the reference: a plain buffered channel between
// two goroutines, with nothing around it.
func BenchmarkChannelHandOff(b *testing.B) {
	ch := make(chan tick, stream.DefaultBuffer)
	done := chantest.Consume(ch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ch <- tick{Seq: uint64(i)}
	}
	close(ch)
	<-done
}

func benchmarkPublish(b *testing.B, subscribers int) {
	h := stream.NewHub[tick]()
	var done []<-chan struct{}
	for range subscribers {
		s := h.Subscribe(context.Background(), stream.WithOverflow(stream.Block))
		done = append(done, chantest.Consume(s.C()))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Publish(tick{Seq: uint64(i)})
	}
	h.Close()
	for _, d := range done {
		<-d
	}
}

// BenchmarkPublish1 publishes to one channel subscriber (Block policy, so
// every value is delivered) drained by another goroutine.
func BenchmarkPublish1(b *testing.B) { benchmarkPublish(b, 1) }

// BenchmarkPublish4 publishes to four channel subscribers.
func BenchmarkPublish4(b *testing.B) { benchmarkPublish(b, 4) }

// BenchmarkPublishAll1 publishes to one subscriber with the default options
// read by an All loop on another goroutine: the reader takes what is queued
// in batches.
func BenchmarkPublishAll1(b *testing.B) {
	h := stream.NewHub[tick]()
	done := consumeAll(h.Subscribe(context.Background()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Publish(tick{Seq: uint64(i)})
	}
	h.Close()
	<-done
}

// BenchmarkPublishEachAll1 publishes batches of 64 with PublishEach to one
// subscriber read by an All loop, as the Client's reader hands over a
// burst. One op is one value.
func BenchmarkPublishEachAll1(b *testing.B) {
	h := stream.NewHub[tick]()
	done := consumeAll(h.Subscribe(context.Background()))
	batch := make([]tick, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(batch) {
		n := min(len(batch), b.N-i)
		h.PublishEach(func(int) []tick { return batch[:n] })
	}
	h.Close()
	<-done
}

// BenchmarkPublishDropOldestFull publishes to a subscriber whose reader is
// gone: every Publish drops the oldest value.
func BenchmarkPublishDropOldestFull(b *testing.B) {
	h := stream.NewHub[tick]()
	h.Subscribe(context.Background(), stream.WithBuffer(16), stream.WithOverflow(stream.DropOldest))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Publish(tick{Seq: uint64(i)})
	}
	b.StopTimer()
	h.Close()
}

// TestPublishDoesNotAllocate holds the zero-allocation promise for channel
// subscribers, on the plain path and on the overflow paths.
func TestPublishDoesNotAllocate(t *testing.T) {
	for _, p := range []stream.Overflow{stream.DropOldest, stream.DropNewest, stream.Block} {
		t.Run(p.String(), func(t *testing.T) {
			h := stream.NewHub[tick]()
			defer h.Close()
			a := h.Subscribe(context.Background(), stream.WithBuffer(1000), stream.WithOverflow(p))
			if p != stream.Block {
				// Let this one overflow on every run.
				h.Subscribe(context.Background(), stream.WithBuffer(1), stream.WithOverflow(p))
			}
			var i uint64
			allocs := testing.AllocsPerRun(500, func() {
				i++
				h.Publish(tick{Seq: i})
			})
			require.Zero(t, allocs)
			require.Len(t, a.C(), 501, "every value reached the roomy subscriber")
		})
	}
}

// BenchmarkDispatchPayload decodes an envelope and its data with JSON and
// publishes the typed message to one subscriber that never reads (so the
// figure is decoding plus routing, not a hand-off).
func BenchmarkDispatchPayload(b *testing.B) {
	r := stream.NewRouter()
	defer r.Close()
	// A subscriber nobody reads, which keeps the newest value: routing, not
	// the reader, is measured.
	stream.Route[metrics](r, "system").Subscribe(context.Background(), stream.WithBuffer(1), stream.WithOverflow(stream.DropOldest))
	payload := []byte(`{"type":"system","data":{"cpu":0.5,"mem":42},"timestamp":"2024-05-01T12:00:00Z"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if err := r.DispatchPayload(payload); err != nil {
			b.Fatal(err)
		}
	}
}
