package stream_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/stream"
)

// dropLog records drop callbacks; they run on the publishing goroutine.
type dropLog struct {
	mu   sync.Mutex
	sub  []int
	hub  []int
	info []stream.SubInfo
}

func (l *dropLog) onSub(v int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sub = append(l.sub, v)
}

func (l *dropLog) onHub(info stream.SubInfo, v int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hub = append(l.hub, v)
	l.info = append(l.info, info)
}

func TestDropOldestKeepsNewest(t *testing.T) {
	var log dropLog
	h := stream.NewHub[int](stream.OnAnyDrop(log.onHub))
	s := h.Subscribe(context.Background(), stream.WithBuffer(4), stream.WithOverflow(stream.DropOldest),
		stream.WithName("slow"), stream.OnDrop(log.onSub))
	for i := range 10 {
		h.Publish(i)
	}
	h.Close()
	require.Equal(t, []int{6, 7, 8, 9}, drain(t, s.C()))
	require.EqualValues(t, 6, s.Dropped())
	require.Equal(t, seq(0, 6), log.sub)
	require.Equal(t, seq(0, 6), log.hub)
	for _, info := range log.info {
		require.Equal(t, s.Info(), info)
	}
	require.NoError(t, s.Err())
}

func TestDropNewestKeepsFirst(t *testing.T) {
	var log dropLog
	h := stream.NewHub[int](stream.OnAnyDrop(log.onHub))
	s := h.Subscribe(context.Background(), stream.WithBuffer(4), stream.WithOverflow(stream.DropNewest), stream.OnDrop(log.onSub))
	for i := range 10 {
		h.Publish(i)
	}
	h.Close()
	require.Equal(t, []int{0, 1, 2, 3}, drain(t, s.C()))
	require.EqualValues(t, 6, s.Dropped())
	require.Equal(t, seq(4, 10), log.sub)
	require.Equal(t, seq(4, 10), log.hub)
}

func TestDropsAreCountedPerSubscriber(t *testing.T) {
	var log dropLog
	h := stream.NewHub[int](stream.OnAnyDrop(log.onHub))
	slow := h.Subscribe(context.Background(), stream.WithBuffer(2), stream.WithName("slow"), stream.WithOverflow(stream.DropOldest))
	fast := h.Subscribe(context.Background(), stream.WithBuffer(16), stream.WithName("fast"))
	for i := range 5 {
		h.Publish(i)
	}
	h.Close()
	require.EqualValues(t, 3, slow.Dropped())
	require.Zero(t, fast.Dropped())
	require.Equal(t, seq(0, 5), drain(t, fast.C()))
	require.Equal(t, []int{3, 4}, drain(t, slow.C()))
	require.Len(t, log.info, 3)
	for _, info := range log.info {
		require.Equal(t, "slow", info.Name)
	}
}

func TestDisconnectClosesSlowSubscriber(t *testing.T) {
	var log dropLog
	h := stream.NewHub[int](stream.OnAnyDrop(log.onHub))
	s := h.Subscribe(context.Background(), stream.WithBuffer(2), stream.WithOverflow(stream.Disconnect), stream.OnDrop(log.onSub))
	other := h.Subscribe(context.Background(), stream.WithBuffer(8))
	defer h.Close()
	for i := range 5 {
		h.Publish(i)
	}
	waitClosed(t, s.Done())
	require.ErrorIs(t, s.Err(), stream.ErrSlowSubscriber)
	require.Equal(t, []int{0, 1}, drain(t, s.C()), "values queued before the disconnect are still readable")
	require.EqualValues(t, 1, s.Dropped(), "only the value that did not fit is a drop")
	require.Equal(t, []int{2}, log.sub)
	require.Equal(t, []int{2}, log.hub)
	require.Equal(t, 1, h.Len())
	require.Equal(t, seq(0, 5), []int{recv(t, other.C()), recv(t, other.C()), recv(t, other.C()), recv(t, other.C()), recv(t, other.C())})
}

func TestDropCallbackMayCloseSubscription(t *testing.T) {
	h := stream.NewHub[int]()
	var s *stream.Subscription[int]
	s = h.Subscribe(context.Background(), stream.WithBuffer(1), stream.WithOverflow(stream.DropNewest),
		stream.OnDrop(func(int) { s.Close() }))
	h.Publish(1)
	h.Publish(2) // dropped: the callback closes the subscription without deadlock
	h.Publish(3)
	waitClosed(t, s.Done())
	require.Equal(t, []int{1}, drain(t, s.C()))
	require.EqualValues(t, 1, s.Dropped())
}

// TestDropCallbackMayPublish: a drop callback runs after the subscriber's
// lock is released, so it may publish, to the same hub or another one
// (docs/streams.md), without deadlock.
func TestDropCallbackMayPublish(t *testing.T) {
	h := stream.NewHub[int]()
	defer h.Close()
	dropped := stream.NewHub[int]()
	defer dropped.Close()
	audit := dropped.Subscribe(context.Background(), stream.WithBuffer(8))
	s := h.Subscribe(context.Background(), stream.WithBuffer(1), stream.WithOverflow(stream.DropNewest),
		stream.OnDrop(func(v int) {
			dropped.Publish(v) // another hub
			if v == 2 {
				h.Publish(100) // the same hub, whose subscriber is full: dropped too
			}
		}))
	h.Publish(1)
	h.Publish(2) // dropped: the callback publishes from inside the drop
	require.Equal(t, 2, recv(t, audit.C()))
	require.Equal(t, 100, recv(t, audit.C()))
	require.Equal(t, 1, recv(t, s.C()))
	require.EqualValues(t, 2, s.Dropped())
}

func TestBlockWaitsForReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int]()
		defer h.Close()
		s := h.Subscribe(context.Background(), stream.WithBuffer(2), stream.WithOverflow(stream.Block))
		h.Publish(0)
		h.Publish(1)
		published := make(chan struct{})
		go func() {
			h.Publish(2)
			close(published)
		}()
		synctest.Wait() // the publisher is durably blocked on the full queue
		select {
		case <-published:
			require.FailNow(t, "Publish returned while the queue was full")
		default:
		}
		require.Equal(t, 0, <-s.C())
		<-published
		require.Equal(t, 1, <-s.C())
		require.Equal(t, 2, <-s.C())
		require.Zero(t, s.Dropped())
	})
}

func TestBlockReleasedWhenSubscriberEnds(t *testing.T) {
	cases := map[string]func(s *stream.Subscription[int], h *stream.Hub[int], cancel context.CancelFunc){
		"context":   func(_ *stream.Subscription[int], _ *stream.Hub[int], cancel context.CancelFunc) { cancel() },
		"close":     func(s *stream.Subscription[int], _ *stream.Hub[int], _ context.CancelFunc) { s.Close() },
		"hub close": func(_ *stream.Subscription[int], h *stream.Hub[int], _ context.CancelFunc) { h.Close() },
	}
	for name, end := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := stream.NewHub[int]()
				defer h.Close()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				s := h.Subscribe(ctx, stream.WithBuffer(1), stream.WithOverflow(stream.Block))
				h.Publish(0)
				published := make(chan struct{})
				go func() {
					h.Publish(1)
					close(published)
				}()
				synctest.Wait()
				select {
				case <-published:
					require.FailNow(t, "Publish returned while the queue was full")
				default:
				}
				end(s, h, cancel)
				<-published
				<-s.Done()
				require.NoError(t, s.Err())
				require.Equal(t, []int{0}, drain(t, s.C()))
				if name == "hub close" {
					require.Equal(t, uint64(1), s.Dropped(), "the value on its way when the hub closed is a drop")
				} else {
					require.Zero(t, s.Dropped(), "a value for a subscriber that left is not a drop")
				}
				require.Zero(t, h.Len())
			})
		})
	}
}

func TestBlockUnbufferedHandOff(t *testing.T) {
	h := stream.NewHub[int]()
	s := h.Subscribe(context.Background(), stream.WithBuffer(0), stream.WithOverflow(stream.Block))
	go func() {
		for i := range 3 {
			h.Publish(i)
		}
		h.Close()
	}()
	require.Equal(t, []int{0, 1, 2}, drain(t, s.C()))
}

func TestBadSubOptions(t *testing.T) {
	cases := map[string][]stream.SubOption{
		"negative buffer":         {stream.WithBuffer(-1)},
		"buffer above MaxBuffer":  {stream.WithBuffer(stream.MaxBuffer + 1)},
		"huge buffer":             {stream.WithBuffer(1 << 40)},
		"zero buffer, drop":       {stream.WithBuffer(0), stream.WithOverflow(stream.DropOldest)},
		"zero buffer, disconnect": {stream.WithBuffer(0), stream.WithOverflow(stream.Disconnect)},
		"unknown policy":          {stream.WithOverflow(stream.Overflow(42))},
		"send-buffer policy":      {stream.WithOverflow(stream.Fail)},
		"drop callback type":      {stream.OnDrop(func(string) {})},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			h := stream.NewHub[int]()
			defer h.Close()
			s := h.Subscribe(context.Background(), opts...)
			waitClosed(t, s.Done())
			require.ErrorIs(t, s.Err(), stream.ErrInvalidConfig)
			var ce *stream.ConfigError
			require.ErrorAs(t, s.Err(), &ce)
			require.Zero(t, h.Len())
			h.Publish(1)
			require.Empty(t, drain(t, s.C()))
		})
	}
}

func TestBadHubOption(t *testing.T) {
	h := stream.NewHub[int](stream.OnAnyDrop(func(stream.SubInfo, string) {}))
	var ce *stream.ConfigError
	require.ErrorAs(t, h.Err(), &ce)
	require.Equal(t, "OnAnyDrop", ce.Option)
	s := h.Subscribe(context.Background())
	require.ErrorIs(t, s.Err(), stream.ErrInvalidConfig)
	require.NoError(t, stream.NewHub[int](nil, stream.OnAnyDrop[int](nil)).Err(), "nil options are ignored")
}

func TestOverflowString(t *testing.T) {
	assert.Equal(t, "drop-oldest", stream.DropOldest.String())
	assert.Equal(t, "drop-newest", stream.DropNewest.String())
	assert.Equal(t, "block", stream.Block.String())
	assert.Equal(t, "fail", stream.Fail.String())
	var zero stream.Overflow
	assert.Equal(t, stream.Block, zero, "the zero value blocks, for subscribers and the send buffer alike")
	assert.Equal(t, "disconnect", stream.Disconnect.String())
	assert.Equal(t, "Overflow(9)", stream.Overflow(9).String())
}
