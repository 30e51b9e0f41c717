package stream_test

import (
	"context"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/stream"
)

// A Block publisher waiting for a full channel must not stop an All loop
// that turned its queue into that channel from going on: the loop then
// reads the channel itself.
func TestAllLoopGoesOnAfterCWhileAPublisherWaits(t *testing.T) {
	h := stream.NewHub[int]()
	s := h.Subscribe(context.Background(), stream.WithBuffer(2))
	h.PublishEach(func(int) []int { return seq(0, 2) }) // the loop's first batch
	published := make(chan struct{})
	got := make(chan []int, 1)
	go func() {
		var vs []int
		for v := range s.All() {
			vs = append(vs, v)
			if v == 0 {
				ch := s.C() // empty: the loop holds 0 and 1
				go func() {
					for i := 2; i < 12; i++ {
						h.Publish(i) // fills the channel, then waits
					}
					close(published)
				}()
				for len(ch) < cap(ch) {
					runtime.Gosched() // until the publisher found it full
				}
			}
			if len(vs) == 12 {
				break
			}
		}
		got <- vs
	}()
	require.Equal(t, seq(0, 12), recv(t, got))
	waitClosed(t, published)
	require.Zero(t, s.Dropped())
}

// Breaking out of such a loop gives the rest of its batch back without
// waiting for the publisher: the channel holds newer values, so the rest is
// dropped and reported.
func TestBreakAfterCWhileAPublisherWaits(t *testing.T) {
	var drops dropLog
	h := stream.NewHub[int]()
	s := h.Subscribe(context.Background(), stream.WithBuffer(3), stream.OnDrop(drops.onSub))
	h.PublishEach(func(int) []int { return seq(0, 3) })
	published := make(chan struct{})
	var ch <-chan int
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for v := range s.All() {
			ch = s.C()
			go func() {
				for i := 3; i < 8; i++ {
					h.Publish(i) // fills the channel (3), then waits
				}
				close(published)
			}()
			for len(ch) < cap(ch) {
				runtime.Gosched()
			}
			_ = v
			break // gives back 1 and 2
		}
	}()
	waitClosed(t, ended)
	var rest []int
	for range 5 {
		rest = append(rest, recv(t, ch))
	}
	waitClosed(t, published)
	require.Equal(t, seq(3, 8), rest)
	require.EqualValues(t, 2, s.Dropped())
	require.Equal(t, []int{1, 2}, drops.sub)
}

// Values a reader gives back reach another reader that was already
// waiting, without a new publish to wake it.
func TestGivenBackValuesWakeAWaitingReader(t *testing.T) {
	for range 20 {
		h := stream.NewHub[int]()
		s := h.Subscribe(context.Background())
		h.PublishEach(func(int) []int { return seq(0, 3) })
		other := make(chan int, 3)
		for v := range s.All() {
			require.Equal(t, 0, v)
			go func() {
				for v := range s.All() {
					other <- v
				}
			}()
			for range 100 {
				runtime.Gosched() // let the other reader find the queue empty and wait
			}
			break // gives back 1 and 2
		}
		require.Equal(t, 1, recv(t, other))
		require.Equal(t, 2, recv(t, other))
		h.Close()
	}
}

// Initial values are queued beyond the buffer in every mode: a subscriber
// holding them still takes a full buffer of published values before its
// policy applies, and once they are read the policy applies at the buffer
// again.
func TestInitialValuesDoNotCountAgainstThePolicy(t *testing.T) {
	const buffer = 2
	initial := []int{-3, -2, -1}
	modes := []struct {
		name string
		read func(h *stream.Hub[int], s *stream.Subscription[int]) func() []int
	}{
		{"batch", func(h *stream.Hub[int], s *stream.Subscription[int]) func() []int {
			return func() []int {
				var vs []int
				for v := range s.All() {
					vs = append(vs, v)
					if v == buffer-1 || v == 10+buffer-1 {
						break
					}
				}
				return vs
			}
		}},
		{"channel", func(h *stream.Hub[int], s *stream.Subscription[int]) func() []int {
			ch := s.C()
			return func() []int {
				var vs []int
				for len(ch) > 0 {
					vs = append(vs, <-ch)
				}
				return vs
			}
		}},
	}
	for _, m := range modes {
		for _, p := range []stream.Overflow{stream.DropNewest, stream.DropOldest, stream.Disconnect} {
			t.Run(m.name+"/"+p.String(), func(t *testing.T) {
				h := stream.NewHub[int]()
				s := h.Subscribe(context.Background(), stream.WithBuffer(buffer), stream.WithOverflow(p), stream.WithInitial(initial...))
				read := m.read(h, s)
				for i := range buffer {
					h.Publish(i)
				}
				require.Zero(t, s.Dropped(), "the initial values took room")
				require.NoError(t, s.Err())
				require.Equal(t, append(append([]int(nil), initial...), seq(0, buffer)...), read())
				for i := range buffer {
					h.Publish(10 + i)
				}
				require.Zero(t, s.Dropped())
				h.Publish(99) // one past the buffer: the policy applies again
				require.EqualValues(t, 1, s.Dropped())
			})
		}
	}
	t.Run("via", func(t *testing.T) {
		var dropped atomic.Int64
		h := stream.NewHub[int]()
		via := newItemVia()
		s := h.Subscribe(context.Background(), stream.WithBuffer(buffer), stream.WithOverflow(stream.DropNewest),
			stream.WithInitial(initial...), stream.OnDrop(func(int) { dropped.Add(1) }), via)
		for i := range buffer {
			h.Publish(i)
		}
		require.Zero(t, dropped.Load())
		h.Publish(99) // one past the buffer: the policy applies
		require.EqualValues(t, 1, dropped.Load())
		require.EqualValues(t, 1, s.Dropped())
		h.Close()
		var got []int
		for it := range via.C() {
			require.NoError(t, it.err)
			got = append(got, it.v)
		}
		require.Equal(t, append(append([]int(nil), initial...), seq(0, buffer)...), got)
	})
}

// A synchronous hand-off (WithBuffer(0)) stays synchronous after its
// initial values are read: a Publish returns only once the reader took the
// value.
func TestHandOffWithInitialStaysSynchronous(t *testing.T) {
	h := stream.NewHub[int]()
	s := h.Subscribe(context.Background(), stream.WithBuffer(0), stream.WithInitial(-2, -1))
	ch := s.C()
	var returned atomic.Bool
	published := make(chan struct{})
	go func() {
		for i := range 3 {
			h.Publish(i)
			returned.Store(true)
			assert.Zero(t, len(ch), "Publish returned with its value still queued")
		}
		close(published)
	}()
	require.Equal(t, -2, recv(t, ch))
	require.Equal(t, -1, recv(t, ch))
	require.Zero(t, cap(ch), "a hand-off has no room")
	for i := range 3 {
		require.Equal(t, i, recv(t, ch))
	}
	waitClosed(t, published)
	require.True(t, returned.Load())
	h.Close()
	_, ok := <-ch
	require.False(t, ok)
}

// The goroutine that hands over a hand-off's initial values ends when the
// subscriber does, read or not (goleak checks it in TestMain), and Unblock
// reports the values it could not hand over.
func TestHandOffInitialValuesEndWithTheSubscriber(t *testing.T) {
	t.Run("close", func(t *testing.T) {
		h := stream.NewHub[int]()
		s := h.Subscribe(context.Background(), stream.WithBuffer(0), stream.WithInitial(1, 2))
		s.Close()
		waitClosed(t, s.Done())
		got := drain(t, s.C()) // the feeder may still hand some over
		require.True(t, slices.Equal([]int{1, 2}[:len(got)], got), "got %v", got)
		require.Zero(t, s.Dropped())
	})
	t.Run("unblock", func(t *testing.T) {
		var drops dropLog
		h := stream.NewHub[int]()
		s := h.Subscribe(context.Background(), stream.WithBuffer(0), stream.WithInitial(1, 2), stream.OnDrop(drops.onSub))
		h.Unblock()
		h.Publish(3) // the feeder may still be waiting: dropped either way
		waitFor(t, func() bool { return s.Dropped() == 3 })
		drops.mu.Lock()
		require.ElementsMatch(t, []int{1, 2, 3}, drops.sub)
		drops.mu.Unlock()
		h.Close()
	})
}
