package stream_test

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/internal/chantest"
	"github.com/tether-go/tether/stream"
)

// collect ranges over it on another goroutine and returns what it yielded,
// failing the test if the iteration does not end in time.
func collect[T any](t *testing.T, it iter.Seq[T]) []T {
	t.Helper()
	out := make(chan []T, 1)
	go func() {
		var got []T
		for v := range it {
			got = append(got, v)
		}
		out <- got
	}()
	return recv(t, out)
}

// readN reads n values from s with All and breaks out of the loop, so that
// the rest stays queued. The values must be there (or come).
func readN(s *stream.Subscription[int], n int) []int {
	var got []int
	if n == 0 {
		return got
	}
	for v := range s.All() {
		got = append(got, v)
		if len(got) == n {
			break
		}
	}
	return got
}

// readModes are the two ways a subscription holds its values: batch mode
// (All only) and channel mode (C was called first).
var readModes = []struct {
	name   string
	toChan bool
}{{"batch mode", false}, {"channel mode", true}}

func TestPublishEachBatchPerSubscriber(t *testing.T) {
	h := stream.NewHub[int]()
	var calls []int
	round := 0
	batch := func(i int) []int {
		calls = append(calls, i)
		base := round*1000 + i*100
		return []int{base, base + 1, base + 2}
	}
	require.Zero(t, h.PublishEach(batch), "no subscribers")
	require.Empty(t, calls, "batch is not called without subscribers")

	a := h.Subscribe(context.Background())
	b := h.Subscribe(context.Background())
	c := h.Subscribe(context.Background())
	chC := c.C() // channel mode

	for round = range 2 {
		calls = nil
		require.Equal(t, 3, h.PublishEach(batch))
		require.Equal(t, []int{0, 1, 2}, calls, "once per subscriber, in subscription order")
	}

	b.Close()
	round = 2
	calls = nil
	require.Equal(t, 2, h.PublishEach(batch))
	require.Equal(t, []int{0, 1}, calls)

	h.Close()
	calls = nil
	require.Zero(t, h.PublishEach(batch), "closed hub")
	require.Empty(t, calls)

	require.Equal(t, []int{0, 1, 2, 1000, 1001, 1002, 2000, 2001, 2002}, collect(t, a.All()))
	require.Equal(t, []int{100, 101, 102, 1100, 1101, 1102}, collect(t, b.All()))
	require.Equal(t, []int{200, 201, 202, 1200, 1201, 1202, 2100, 2101, 2102}, drain(t, chC))
	for _, s := range []*stream.Subscription[int]{a, b, c} {
		require.Zero(t, s.Dropped())
	}
}

// One goroutine may read two Block subscribers of a hub in turn, whatever
// their buffers and however large the batches PublishEach hands them: the
// batch goes to each in steps no larger than the smallest Block buffer.
// Before, the publisher gave the first subscriber its whole batch, waiting
// for room in it, while the reader waited for the second: for ever.
// A subscriber that never waits (DropOldest here) gets its batch at once.
func TestOneGoroutineReadsBlockSubscribersInTurn(t *testing.T) {
	const batches, size = 4, 50
	for _, buffers := range [][2]int{{0, 0}, {1, 1}, {3, 8}, {8, 3}, {0, 5}} {
		t.Run(fmt.Sprintf("buffers=%d,%d", buffers[0], buffers[1]), func(t *testing.T) {
			var wg sync.WaitGroup
			defer wg.Wait()
			h := stream.NewHub[int]()
			defer h.Close() // first: releases a publisher still waiting
			a := h.Subscribe(context.Background(), stream.WithBuffer(buffers[0]))
			b := h.Subscribe(context.Background(), stream.WithBuffer(buffers[1]))
			live := h.Subscribe(context.Background(), stream.WithBuffer(size), stream.WithOverflow(stream.DropOldest))
			wg.Go(func() {
				for k := range batches {
					h.PublishEach(func(int) []int { return seq(k*size, (k+1)*size) })
				}
			})
			ac, bc := a.C(), b.C()
			for i := range batches * size {
				require.Equal(t, i, recv(t, ac), "the first subscriber")
				require.Equal(t, i, recv(t, bc), "the second subscriber")
			}
			wg.Wait()
			h.Close()
			got := collect(t, live.All())
			require.Equal(t, seq(batches*size-len(got), batches*size), got, "the newest, in order")
			require.Equal(t, uint64(batches*size-len(got)), live.Dropped())
			require.Zero(t, a.Dropped()+b.Dropped())
		})
	}
}

// Every call of batch happens before any value is delivered: a Block
// subscriber that makes PublishEach wait has not kept batch from being
// called for the others.
func TestPublishEachCallsEveryBatchFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int]()
		defer h.Close()
		first := h.Subscribe(context.Background(), stream.WithBuffer(1))
		second := h.Subscribe(context.Background(), stream.WithBuffer(4))
		var mu sync.Mutex
		var calls []int
		published := make(chan struct{})
		go func() {
			n := h.PublishEach(func(i int) []int {
				mu.Lock()
				defer mu.Unlock()
				calls = append(calls, i)
				return []int{10 * i, 10*i + 1}
			})
			assert.Equal(t, 2, n)
			close(published)
		}()
		synctest.Wait() // the publisher waits: first holds one value of two
		require.False(t, chantest.IsClosed(published))
		mu.Lock()
		called := slices.Clone(calls)
		mu.Unlock()
		require.Equal(t, []int{0, 1}, called, "batch is called for every subscriber before any waits")
		require.Equal(t, []int{0, 1}, readN(first, 2))
		<-published
		require.Equal(t, []int{10, 11}, readN(second, 2))
	})
}

func TestPublishEachAppliesEachPolicy(t *testing.T) {
	var log dropLog
	h := stream.NewHub[int](stream.OnAnyDrop(log.onHub))
	keep := h.Subscribe(context.Background(), stream.WithBuffer(8))
	newest := h.Subscribe(context.Background(), stream.WithBuffer(3), stream.WithOverflow(stream.DropNewest), stream.OnDrop(log.onSub))
	require.Equal(t, 2, h.PublishEach(func(int) []int { return seq(0, 5) }))
	h.Close()
	require.Equal(t, seq(0, 5), collect(t, keep.All()))
	require.Equal(t, seq(0, 3), collect(t, newest.All()))
	require.EqualValues(t, 2, newest.Dropped())
	require.Equal(t, []int{3, 4}, log.sub)
	require.Equal(t, []int{3, 4}, log.hub)
}

// The hub copies the values of a batch: the publisher may reuse its slice,
// even the same one for every subscriber, once PublishEach returns.
func TestPublishEachDoesNotKeepTheSlice(t *testing.T) {
	h := stream.NewHub[int]()
	batchMode := h.Subscribe(context.Background(), stream.WithBuffer(16))
	chanMode := h.Subscribe(context.Background(), stream.WithBuffer(16))
	ch := chanMode.C()

	buf := []int{1, 2, 3}
	require.Equal(t, 2, h.PublishEach(func(int) []int { return buf }))
	for i := range buf {
		buf[i] += 3 // the next batch: 4, 5, 6
	}
	require.Equal(t, 2, h.PublishEach(func(int) []int { return buf }))
	for i := range buf {
		buf[i] = -1
	}
	h.Close()
	require.Equal(t, seq(1, 7), collect(t, batchMode.All()))
	require.Equal(t, seq(1, 7), drain(t, ch))
}

// A batch larger than a Block subscriber's buffer waits for the reader part
// by part and arrives whole and in order.
func TestPublishEachBlockAtVolume(t *testing.T) {
	h := stream.NewHub[int]()
	a := h.Subscribe(context.Background(), stream.WithBuffer(16))
	b := h.Subscribe(context.Background(), stream.WithBuffer(3))
	chB := b.C()
	const batches, size = 200, 100
	go func() {
		for r := range batches {
			n := h.PublishEach(func(int) []int { return seq(r*size, (r+1)*size) })
			assert.Equal(t, 2, n)
		}
		h.Close()
	}()
	gotA := make(chan []int, 1)
	go func() {
		var got []int
		for v := range a.All() {
			got = append(got, v)
		}
		gotA <- got
	}()
	require.Equal(t, seq(0, batches*size), drain(t, chB))
	require.Equal(t, seq(0, batches*size), recv(t, gotA))
	require.Zero(t, a.Dropped())
	require.Zero(t, b.Dropped())
}

func TestUnblockReleasesBlockedPublisher(t *testing.T) {
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var log dropLog
				h := stream.NewHub[int](stream.OnAnyDrop(log.onHub))
				defer h.Close()
				s := h.Subscribe(context.Background(), stream.WithBuffer(2), stream.WithName("slow"), stream.OnDrop(log.onSub))
				other := h.Subscribe(context.Background(), stream.WithBuffer(16))
				if mode.toChan {
					s.C()
				}
				require.Equal(t, stream.Block, s.Info().Overflow, "Block is the default")
				h.Publish(0)
				h.Publish(1)
				published := make(chan struct{})
				go func() {
					h.Publish(2)
					close(published)
				}()
				synctest.Wait()
				require.False(t, chantest.IsClosed(published), "Publish waits for a full Block subscriber")
				require.Zero(t, s.Dropped())

				h.Unblock()
				<-published  // released (a deadlock here fails the bubble)
				h.Unblock()  // idempotent
				h.Publish(3) // does not fit: dropped at once
				require.EqualValues(t, 2, s.Dropped())
				require.Equal(t, []int{2, 3}, log.sub)

				// Values that fit are still queued.
				require.Equal(t, []int{0, 1}, readN(s, 2))
				h.Publish(4)
				h.Publish(5)
				h.Publish(6) // full again: dropped
				h.Close()
				require.Equal(t, []int{4, 5}, drain(t, s.C()))
				require.EqualValues(t, 3, s.Dropped())
				require.Equal(t, []int{2, 3, 6}, log.sub)
				require.Equal(t, []int{2, 3, 6}, log.hub)
				for _, info := range log.info {
					require.Equal(t, s.Info(), info)
				}
				require.Equal(t, seq(0, 7), drain(t, other.C()), "a subscriber with room loses nothing")
				require.Zero(t, other.Dropped())
			})
		})
	}
}

func TestUnblockZeroHub(t *testing.T) {
	t.Run("before subscribing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var h stream.Hub[int]
			h.Unblock()
			h.Unblock()
			s := h.Subscribe(context.Background(), stream.WithBuffer(1))
			h.Publish(1)
			published := make(chan struct{})
			go func() {
				h.Publish(2)
				close(published)
			}()
			synctest.Wait()
			require.True(t, chantest.IsClosed(published), "after Unblock a full Block subscriber drops")
			require.EqualValues(t, 1, s.Dropped())
			h.Close()
			require.Equal(t, []int{1}, drain(t, s.C()))
		})
	})
	t.Run("while a publisher waits", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var h stream.Hub[int]
			defer h.Close()
			s := h.Subscribe(context.Background(), stream.WithBuffer(1))
			h.Publish(1)
			published := make(chan struct{})
			go func() {
				h.Publish(2)
				close(published)
			}()
			synctest.Wait()
			require.False(t, chantest.IsClosed(published))
			h.Unblock()
			<-published
			require.EqualValues(t, 1, s.Dropped())
			require.Equal(t, []int{1}, readN(s, 1))
		})
	})
	t.Run("no subscriber ever", func(t *testing.T) {
		var h stream.Hub[int]
		h.Unblock()
		h.Unblock()
		h.Publish(1)
		require.Zero(t, h.PublishEach(func(int) []int { return []int{1} }))
	})
}

// A reader reads part of the values with All loops that break every few
// values (giving the rest of each batch back), then switches to C, while a
// publisher publishes n values concurrently: nothing lost, reordered or
// repeated across the conversion.
func TestConvertToChannelMidStream(t *testing.T) {
	const n = 100_000
	for _, switchAt := range []int{0, 1, n / 3} {
		h := stream.NewHub[int]()
		s := h.Subscribe(context.Background(), stream.WithBuffer(64))
		go func() {
			for i := range n {
				h.Publish(i)
			}
			h.Close()
		}()
		out := make(chan []int, 1)
		go func() {
			var got []int
			for len(got) < switchAt {
				broke := false
				for v := range s.All() {
					got = append(got, v)
					if len(got)%997 == 0 || len(got) == switchAt {
						broke = true
						break
					}
				}
				if !broke {
					break
				}
			}
			for v := range s.C() {
				got = append(got, v)
			}
			out <- got
		}()
		got := recv(t, out)
		require.Len(t, got, n, "switch at %d", switchAt)
		require.Equal(t, seq(0, n), got, "switch at %d", switchAt)
		require.Zero(t, s.Dropped())
	}
}

func TestConvertReleasesWaitingGoroutines(t *testing.T) {
	t.Run("publisher waiting for room", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := stream.NewHub[int]()
			defer h.Close()
			s := h.Subscribe(context.Background(), stream.WithBuffer(2))
			h.Publish(0)
			h.Publish(1)
			published := make(chan struct{})
			go func() {
				h.PublishEach(func(int) []int { return seq(2, 6) })
				close(published)
			}()
			synctest.Wait()
			require.False(t, chantest.IsClosed(published))
			ch := s.C()
			var got []int
			for range 6 {
				got = append(got, <-ch)
			}
			<-published
			require.Equal(t, seq(0, 6), got)
			require.Zero(t, s.Dropped())
		})
	})
	t.Run("reader waiting for values", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := stream.NewHub[int]()
			s := h.Subscribe(context.Background(), stream.WithBuffer(2))
			out := make(chan []int, 1)
			go func() {
				var got []int
				for v := range s.All() {
					got = append(got, v)
				}
				out <- got
			}()
			synctest.Wait() // the reader waits in batch mode
			s.C()
			h.Publish(1)
			h.Publish(2)
			h.Close()
			require.Equal(t, []int{1, 2}, <-out)
		})
	})
}

// Breaking out of an All loop mid-batch gives the rest of the batch back:
// the next read gets it first, ahead of what was published meanwhile.
func TestBreakGivesBackTheRestOfTheBatch(t *testing.T) {
	start := func(t *testing.T, closeHub bool) (*stream.Hub[int], *stream.Subscription[int]) {
		h := stream.NewHub[int]()
		s := h.Subscribe(context.Background())
		h.PublishEach(func(int) []int { return seq(0, 10) })
		var first []int
		for v := range s.All() {
			first = append(first, v)
			if v == 3 {
				h.Publish(10) // queued behind the batch the loop holds
				if closeHub {
					h.Close()
				}
				break
			}
		}
		require.Equal(t, seq(0, 4), first)
		return h, s
	}
	t.Run("next All", func(t *testing.T) {
		h, s := start(t, false)
		require.Equal(t, seq(4, 7), readN(s, 3), "a second break gives back again")
		h.Publish(11)
		h.Close()
		require.Equal(t, seq(7, 12), collect(t, s.All()))
		require.Zero(t, s.Dropped())
	})
	t.Run("C", func(t *testing.T) {
		h, s := start(t, false)
		ch := s.C()
		h.Publish(11)
		h.Close()
		require.Equal(t, seq(4, 12), drain(t, ch))
		require.Zero(t, s.Dropped())
	})
	t.Run("closed hub, next All", func(t *testing.T) {
		_, s := start(t, true)
		require.Equal(t, seq(4, 11), collect(t, s.All()))
		require.Zero(t, s.Dropped())
	})
	t.Run("closed hub, C", func(t *testing.T) {
		_, s := start(t, true)
		require.Equal(t, seq(4, 11), drain(t, s.C()))
		require.Zero(t, s.Dropped())
	})
}

// If C is called inside an All loop (the loop holds a batch) and the loop
// then breaks, the rest of the batch cannot go ahead of what the channel
// holds: as documented on putBack, it is dropped and reported.
func TestCInsideAllLoopDropsTheRestOfTheBatch(t *testing.T) {
	var log dropLog
	h := stream.NewHub[int](stream.OnAnyDrop(log.onHub))
	s := h.Subscribe(context.Background(), stream.OnDrop(log.onSub))
	h.PublishEach(func(int) []int { return seq(0, 6) })
	var ch <-chan int
	var got []int
	for v := range s.All() {
		got = append(got, v)
		if v == 1 {
			ch = s.C()   // the loop holds 2..5
			h.Publish(6) // fits in the channel
			break
		}
	}
	require.Equal(t, []int{0, 1}, got)
	require.EqualValues(t, 4, s.Dropped())
	require.Equal(t, seq(2, 6), log.sub)
	require.Equal(t, seq(2, 6), log.hub)
	h.Close()
	require.Equal(t, []int{6}, drain(t, ch))
}

// Several goroutines ranging over one subscription's All share its values:
// each value reaches exactly one of them, and all of them end at close.
func TestAllConcurrentReaders(t *testing.T) {
	for _, tc := range []struct {
		name       string
		breakEvery int // 0: never break
	}{{"ranging", 0}, {"breaking", 101}} {
		t.Run(tc.name, func(t *testing.T) {
			const n, readers = 50_000, 4
			h := stream.NewHub[int]()
			s := h.Subscribe(context.Background(), stream.WithBuffer(64))
			outs := make([][]int, readers)
			var wg sync.WaitGroup
			for r := range readers {
				wg.Go(func() {
					var got []int
					for {
						broke := false
						for v := range s.All() {
							got = append(got, v)
							if tc.breakEvery > 0 && len(got)%tc.breakEvery == 0 {
								broke = true
								break
							}
						}
						if !broke {
							break
						}
					}
					outs[r] = got
				})
			}
			go func() {
				for i := range n {
					h.Publish(i)
				}
				h.Close()
			}()
			done := make(chan struct{})
			go func() {
				wg.Wait()
				close(done)
			}()
			waitClosed(t, done) // every reader ends at close
			var all []int
			for _, got := range outs {
				if tc.breakEvery == 0 {
					require.True(t, slices.IsSorted(got), "each reader takes whole batches in order")
				}
				all = append(all, got...)
			}
			slices.Sort(all)
			require.Equal(t, seq(0, n), all, "every value exactly once")
			require.Zero(t, s.Dropped())
		})
	}
}

func TestLosslessByDefault(t *testing.T) {
	t.Run("the publisher waits", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := stream.NewHub[int]()
			s := h.Subscribe(context.Background())
			require.Equal(t, stream.Block, s.Info().Overflow)
			require.Equal(t, stream.DefaultBuffer, s.Info().Buffer)
			const n = 3 * stream.DefaultBuffer
			var published atomic.Int64
			go func() {
				for i := range n {
					h.Publish(i)
					published.Add(1)
				}
				h.Close()
			}()
			synctest.Wait()
			require.EqualValues(t, stream.DefaultBuffer, published.Load(), "the publisher waits when the queue is full")
			require.Equal(t, seq(0, n), collect(t, s.All()))
			require.Zero(t, s.Dropped())
		})
	})
	for _, mode := range readModes {
		t.Run("slow reader, "+mode.name, func(t *testing.T) {
			const n = 100_000
			var drops atomic.Int64
			h := stream.NewHub[int](stream.OnAnyDrop(func(stream.SubInfo, int) { drops.Add(1) }))
			s := h.Subscribe(context.Background())
			go func() {
				for i := range n {
					h.Publish(i)
				}
				h.Close()
			}()
			var got []int
			if mode.toChan {
				for _, v := range drain(t, s.C()) {
					runtime.Gosched()
					got = append(got, v)
				}
			} else {
				out := make(chan []int, 1)
				go func() {
					var got []int
					for v := range s.All() {
						runtime.Gosched() // a reader much slower than the publisher
						got = append(got, v)
					}
					out <- got
				}()
				got = recv(t, out)
			}
			require.Len(t, got, n)
			require.Equal(t, seq(0, n), got)
			require.Zero(t, s.Dropped())
			require.Zero(t, drops.Load())
		})
	}
}

func TestWithInitialBeyondBuffer(t *testing.T) {
	const nInitial, n = 50, 1000
	cases := []struct {
		name   string
		buffer int
		toChan bool
	}{
		{"batch mode", 4, false},
		{"channel mode", 4, true},
		{"hand-off", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := stream.NewHub[int]()
			s := h.Subscribe(context.Background(), stream.WithBuffer(tc.buffer), stream.WithInitial(seq(0, nInitial)...))
			var ch <-chan int
			if tc.toChan {
				ch = s.C()
			}
			go func() {
				for i := nInitial; i < n; i++ {
					h.Publish(i)
				}
				h.Close()
			}()
			var got []int
			if tc.toChan {
				got = drain(t, ch)
			} else {
				got = collect(t, s.All())
			}
			require.Equal(t, seq(0, n), got)
			require.Zero(t, s.Dropped())
		})
	}
}

// Ending a subscriber in any way releases Block publishers waiting for it.
func TestShutdownReleasesBlockedPublishers(t *testing.T) {
	ends := []struct {
		name string
		end  func(*stream.Hub[int], *stream.Subscription[int], context.CancelFunc)
	}{
		{"subscription close", func(_ *stream.Hub[int], s *stream.Subscription[int], _ context.CancelFunc) { s.Close() }},
		{"hub close", func(h *stream.Hub[int], _ *stream.Subscription[int], _ context.CancelFunc) { h.Close() }},
		{"context", func(_ *stream.Hub[int], _ *stream.Subscription[int], cancel context.CancelFunc) { cancel() }},
	}
	for _, mode := range readModes {
		for _, e := range ends {
			t.Run(mode.name+", "+e.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					h := stream.NewHub[int]()
					defer h.Close()
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					s := h.Subscribe(ctx, stream.WithBuffer(2))
					if mode.toChan {
						s.C()
					}
					h.Publish(0)
					h.Publish(1)
					var wg sync.WaitGroup
					wg.Go(func() { h.PublishEach(func(int) []int { return []int{2, 3} }) })
					if !mode.toChan {
						// A channel-mode publisher waits holding the
						// subscriber's lock, which synctest cannot
						// see as durable; in batch mode both wait.
						wg.Go(func() { h.Publish(4) })
					}
					published := make(chan struct{})
					go func() {
						wg.Wait()
						close(published)
					}()
					synctest.Wait()
					require.False(t, chantest.IsClosed(published), "the publishers wait")
					e.end(h, s, cancel)
					<-published
					<-s.Done()
					require.NoError(t, s.Err())
					require.Zero(t, h.Len())
					require.Equal(t, []int{0, 1}, drain(t, s.C()))
					switch {
					case e.name != "hub close":
						require.Zero(t, s.Dropped(), "a value for a subscriber that left is not a drop")
					case mode.toChan:
						require.Equal(t, uint64(2), s.Dropped(), "the values on their way when the hub closed are drops")
					default:
						require.Equal(t, uint64(3), s.Dropped(), "the values on their way when the hub closed are drops")
					}
				})
			})
		}
	}
}

// The same with real goroutines: publishers blocked on batch-mode and
// channel-mode subscribers and a reader waiting in All are all released,
// and no goroutine is left behind.
func TestShutdownLeavesNoGoroutine(t *testing.T) {
	ends := []struct {
		name string
		end  func(*stream.Hub[int], []*stream.Subscription[int], context.CancelFunc)
	}{
		{"subscription close", func(_ *stream.Hub[int], subs []*stream.Subscription[int], _ context.CancelFunc) {
			for _, s := range subs {
				s.Close()
			}
		}},
		{"hub close", func(h *stream.Hub[int], _ []*stream.Subscription[int], _ context.CancelFunc) { h.Close() }},
		{"context", func(_ *stream.Hub[int], _ []*stream.Subscription[int], cancel context.CancelFunc) { cancel() }},
		{"unblock", func(h *stream.Hub[int], _ []*stream.Subscription[int], _ context.CancelFunc) { h.Unblock() }},
	}
	for _, e := range ends {
		t.Run(e.name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			h := stream.NewHub[int]()
			defer h.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The read subscriber comes first, so that every publisher
			// reaches it before waiting for the two that are not read.
			reader := h.Subscribe(ctx, stream.WithBuffer(1))
			batch := h.Subscribe(ctx, stream.WithBuffer(1))
			channel := h.Subscribe(ctx, stream.WithBuffer(1))
			channel.C()
			readerDone := make(chan struct{})
			var read atomic.Int64
			go func() {
				defer close(readerDone)
				for range reader.All() {
					read.Add(1)
				}
			}()

			h.Publish(-1) // fills batch and channel; they are never read

			var wg sync.WaitGroup
			for p := range 3 {
				wg.Go(func() {
					for i := range 100 {
						if p == 0 {
							h.Publish(i)
						} else {
							h.PublishEach(func(int) []int { return []int{i, i} })
						}
					}
				})
			}
			// A publisher reached the reader and goes on to wait for
			// batch, which is full, as channel is.
			waitFor(t, func() bool { return read.Load() >= 2 })
			published := make(chan struct{})
			go func() {
				wg.Wait()
				close(published)
			}()
			require.False(t, chantest.IsClosed(published), "the publishers wait for the unread subscribers")
			e.end(h, []*stream.Subscription[int]{batch, channel, reader}, cancel)
			waitClosed(t, published)
			if e.name == "unblock" {
				h.Close()
			}
			waitClosed(t, readerDone)
			waitClosed(t, batch.Done())
			waitClosed(t, channel.Done())
			require.Zero(t, h.Len())
			require.Equal(t, []int{-1}, drain(t, batch.C()))
			require.Equal(t, []int{-1}, drain(t, channel.C()))
			if e.name == "unblock" || e.name == "hub close" {
				// Dropped: by the unblocked hub, or as values on their
				// way when the hub closed.
				require.NotZero(t, batch.Dropped())
				require.NotZero(t, channel.Dropped())
			} else {
				require.Zero(t, batch.Dropped())
				require.Zero(t, channel.Dropped())
			}
		})
	}
}
