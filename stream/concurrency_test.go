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

// With several goroutines publishing at once, each Block subscriber gets
// every value exactly once, and the values of one publisher in the order
// it published them (docs/streams.md). Half the publishers hand on
// batches, half single values; the subscribers' buffers are small, so the
// publishers wait for them all the time.
func TestSeveralPublishersReachEverySubscriberOnce(t *testing.T) {
	const publishers, each = 8, 10_000
	h := stream.NewHub[int]()
	subs := []*stream.Subscription[int]{
		h.Subscribe(context.Background(), stream.WithBuffer(1), stream.WithOverflow(stream.Block)),
		h.Subscribe(context.Background(), stream.WithBuffer(3), stream.WithOverflow(stream.Block)),
		h.Subscribe(context.Background(), stream.WithBuffer(16), stream.WithOverflow(stream.Block)),
	}
	var published sync.WaitGroup
	for p := range publishers {
		published.Go(func() {
			base := p * each
			if p%2 == 0 {
				for i := range each {
					h.Publish(base + i)
				}
				return
			}
			for i := 0; i < each; i += 7 {
				from, to := base+i, base+min(i+7, each)
				h.PublishEach(func(int) []int { return seq(from, to) })
			}
		})
	}
	got := make([][]int, len(subs))
	var read sync.WaitGroup
	for k, s := range subs {
		read.Go(func() {
			for v := range s.All() {
				got[k] = append(got[k], v)
			}
		})
	}
	published.Wait()
	h.Close()
	read.Wait()
	for k := range subs {
		seen := make([]int, publishers*each) // how often each value arrived
		last := make([]int, publishers)      // the latest value of each publisher
		for p := range last {
			last[p] = -1
		}
		outOfOrder := 0
		for _, v := range got[k] {
			seen[v]++
			p := v / each
			if v <= last[p] {
				outOfOrder++
			}
			last[p] = v
		}
		missing, twice := 0, 0
		for _, n := range seen {
			switch {
			case n == 0:
				missing++
			case n > 1:
				twice++
			}
		}
		assert.Zero(t, missing, "subscriber %d: values never delivered", k)
		assert.Zero(t, twice, "subscriber %d: values delivered more than once", k)
		assert.Zero(t, outOfOrder, "subscriber %d: values of one publisher out of its order", k)
	}
}
