package stream_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/stream"
)

// item is an adapter's item type: a value or the error that ends the
// channel, as rxgo.Item is.
type item struct {
	v   int
	err error
}

func newItemVia() *stream.Via[int, item] {
	return stream.NewVia(
		func(v int) item { return item{v: v} },
		func(it item) int { return it.v },
		func(err error) item { return item{err: err} },
	)
}

func TestViaDeliversOnItsChannel(t *testing.T) {
	h := stream.NewHub[int]()
	via := newItemVia()
	require.Nil(t, via.C(), "no channel before a subscription")
	s := h.Subscribe(context.Background(), via)
	require.Equal(t, 1, h.Len())
	h.Publish(1)
	h.Publish(2)
	require.Equal(t, item{v: 1}, recv(t, via.C()))
	// The Subscription controls the subscriber but reads nothing.
	require.Empty(t, drain(t, s.C()))
	for range s.All() {
		require.FailNow(t, "All of a Via subscription yields nothing")
	}
	require.NoError(t, s.Err())
	s.Close()
	waitClosed(t, s.Done())
	require.Zero(t, h.Len())
	require.Equal(t, []item{{v: 2}}, drain(t, via.C()), "queued values stay readable")
}

func TestViaDisconnectEndsWithItsItem(t *testing.T) {
	h := stream.NewHub[int]()
	defer h.Close()
	via := newItemVia()
	s := h.Subscribe(context.Background(), stream.WithBuffer(2), stream.WithOverflow(stream.Disconnect), via)
	for i := range 4 {
		h.Publish(i)
	}
	got := drain(t, via.C())
	require.Len(t, got, 3)
	require.Equal(t, []item{{v: 0}, {v: 1}}, got[:2])
	require.ErrorIs(t, got[2].err, stream.ErrSlowSubscriber)
	require.ErrorIs(t, s.Err(), stream.ErrSlowSubscriber)
	require.EqualValues(t, 1, s.Dropped())
	require.Equal(t, stream.Disconnect, s.Info().Overflow)
}

func TestViaDropOldestReportsValues(t *testing.T) {
	var dropped []int
	h := stream.NewHub[int](stream.OnAnyDrop(func(_ stream.SubInfo, v int) { dropped = append(dropped, v) }))
	via := newItemVia()
	h.Subscribe(context.Background(), stream.WithBuffer(2), stream.WithOverflow(stream.DropOldest), via)
	for i := range 5 {
		h.Publish(i)
	}
	h.Close()
	require.Equal(t, []item{{v: 3}, {v: 4}}, drain(t, via.C()))
	require.Equal(t, []int{0, 1, 2}, dropped)
}

func TestViaCurrentValueComesFirst(t *testing.T) {
	h := stream.NewHub[int](stream.WithCurrent(7))
	via := newItemVia()
	h.Subscribe(context.Background(), via)
	h.Publish(8)
	h.Close()
	require.Equal(t, []item{{v: 7}, {v: 8}}, drain(t, via.C()))
}

func TestViaRefused(t *testing.T) {
	t.Run("bad option", func(t *testing.T) {
		h := stream.NewHub[int]()
		via := newItemVia()
		s := h.Subscribe(context.Background(), stream.WithBuffer(-1), via)
		require.ErrorIs(t, s.Err(), stream.ErrInvalidConfig)
		got := drain(t, via.C())
		require.Len(t, got, 1)
		require.ErrorIs(t, got[0].err, stream.ErrInvalidConfig)
		require.Zero(t, h.Len())
	})
	t.Run("wrong value type", func(t *testing.T) {
		h := stream.NewHub[string]()
		via := newItemVia()
		s := h.Subscribe(context.Background(), via)
		var ce *stream.ConfigError
		require.ErrorAs(t, s.Err(), &ce)
		require.Equal(t, "Via", ce.Option)
		got := drain(t, via.C())
		require.Len(t, got, 1)
		require.ErrorIs(t, got[0].err, stream.ErrInvalidConfig)
	})
	t.Run("used twice", func(t *testing.T) {
		h := stream.NewHub[int]()
		defer h.Close()
		via := newItemVia()
		first := h.Subscribe(context.Background(), via)
		second := h.Subscribe(context.Background(), via)
		require.NoError(t, first.Err())
		require.ErrorIs(t, second.Err(), stream.ErrInvalidConfig)
		require.Equal(t, 1, h.Len())
		h.Publish(1)
		require.Equal(t, item{v: 1}, recv(t, via.C()), "the first subscription keeps the channel")
	})
	t.Run("ended context", func(t *testing.T) {
		h := stream.NewHub[int]()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		via := newItemVia()
		s := h.Subscribe(ctx, via)
		require.NoError(t, s.Err())
		require.Empty(t, drain(t, via.C()))
	})
}
