package stream_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tether-go/tether/stream"
)

// TestPublishRacesCloseAndSubscribe runs publishers against subscribers that
// join, read, close, cancel and get disconnected, and closes the hub while
// everything is running. It must neither panic (send on a closed channel)
// nor deadlock (every Block publisher must be released), and -race must
// stay quiet.
func TestPublishRacesCloseAndSubscribe(t *testing.T) {
	policies := []stream.Overflow{stream.DropOldest, stream.DropNewest, stream.Block, stream.Disconnect}
	for round := range 10 {
		var drops atomic.Uint64
		h := stream.NewHub[int](stream.OnAnyDrop(func(stream.SubInfo, int) { drops.Add(1) }))
		hubClosed := make(chan struct{})
		halfway := make(chan struct{})
		var wg sync.WaitGroup
		for p := range 4 {
			wg.Go(func() {
				for i := range 2000 {
					if p == 0 && i == 100*(round+1) {
						close(halfway)
					}
					h.Publish(i)
				}
			})
		}
		for c := range 8 {
			wg.Go(func() {
				for j := 0; ; j++ {
					select {
					case <-hubClosed:
						return
					default:
					}
					ctx, cancel := context.WithCancel(context.Background())
					s := h.Subscribe(ctx, stream.WithBuffer(1+j%3), stream.WithOverflow(policies[(c+j)%len(policies)]))
					for k := 0; k < j%4; k++ {
						select {
						case <-s.C():
						case <-s.Done():
						}
					}
					if j%2 == 0 {
						cancel()
					} else {
						s.Close()
					}
					cancel()
					<-s.Done()
					for range s.C() { // closed once drained
					}
				}
			})
		}
		<-halfway
		h.Close()
		close(hubClosed)
		wg.Wait()
		require.Zero(t, h.Len())
	}
}

// TestQueueModel checks, for random sequences of publishes and reads on
// one subscriber, that what the subscriber reads and what is reported as
// dropped is exactly what a simple model of its overflow policy predicts.
func TestQueueModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		policy := rapid.SampledFrom([]stream.Overflow{stream.DropOldest, stream.DropNewest, stream.Disconnect}).Draw(rt, "policy")
		buffer := rapid.IntRange(1, 5).Draw(rt, "buffer")
		var dropped []int
		h := stream.NewHub[int]()
		s := h.Subscribe(context.Background(), stream.WithBuffer(buffer), stream.WithOverflow(policy),
			stream.OnDrop(func(v int) { dropped = append(dropped, v) }))
		defer h.Close()

		var model, wantDropped, got, wantGot []int
		disconnected := false
		next := 0
		rt.Repeat(map[string]func(*rapid.T){
			"publish": func(*rapid.T) {
				v := next
				next++
				h.Publish(v)
				if disconnected {
					return
				}
				if len(model) < buffer {
					model = append(model, v)
					return
				}
				switch policy {
				case stream.DropOldest:
					wantDropped = append(wantDropped, model[0])
					model = append(model[1:], v)
				case stream.DropNewest:
					wantDropped = append(wantDropped, v)
				case stream.Disconnect:
					wantDropped = append(wantDropped, v)
					disconnected = true
				}
			},
			"read": func(rt *rapid.T) {
				if len(model) == 0 {
					rt.Skip("empty")
				}
				got = append(got, <-s.C())
				wantGot = append(wantGot, model[0])
				model = model[1:]
			},
			"": func(rt *rapid.T) {
				assert.Equal(rt, wantGot, got)
				assert.Equal(rt, wantDropped, dropped)
				assert.EqualValues(rt, len(wantDropped), s.Dropped())
				if disconnected {
					assert.ErrorIs(rt, s.Err(), stream.ErrSlowSubscriber)
				} else {
					assert.NoError(rt, s.Err())
				}
			},
		})
		h.Close()
		rest := []int{}
		for v := range s.C() {
			rest = append(rest, v)
		}
		if len(model) == 0 {
			model = []int{}
		}
		assert.Equal(rt, model, rest)
	})
}
