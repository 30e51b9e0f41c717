package stream_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/stream"
)

// A subscriber that joins while values are published receives every value
// from its current one on, exactly once and in order: the hand-over loses
// nothing and repeats nothing.
func TestWithCurrentHandsOverExactlyOnce(t *testing.T) {
	const n, joiners = 20_000, 50
	h := stream.NewHub[int](stream.WithCurrent(-1))
	require.NoError(t, h.Err())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subs := make(chan *stream.Subscription[int], joiners)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			h.Publish(i)
			if i%(n/joiners) == 0 {
				subs <- h.Subscribe(ctx, stream.WithBuffer(n+1))
			}
		}
		close(subs)
	})
	wg.Wait()
	h.Close()
	k := 0
	for sub := range subs {
		// The subscriber joined right after value k*(n/joiners) was
		// published: that is its current value, and every later one follows.
		want := k * (n / joiners)
		k++
		for v := range sub.All() {
			if v != want {
				assert.Failf(t, "lost or repeated", "subscriber %d: got %d, want %d", k, v, want)
				break
			}
			want++
		}
		assert.Equal(t, n, want, "subscriber %d saw every value up to the last", k)
	}
}

// The first subscriber of a hub with a current value starts with it.
func TestWithCurrentStartsWithTheCurrentValue(t *testing.T) {
	h := stream.NewHub[string](stream.WithCurrent("idle"))
	h.Publish("open")
	sub := h.Subscribe(context.Background())
	h.Publish("closed")
	h.Close()
	var got []string
	for v := range sub.All() {
		got = append(got, v)
	}
	assert.Equal(t, []string{"open", "closed"}, got)

	bad := stream.NewHub[int](stream.WithCurrent("not an int"))
	require.ErrorIs(t, bad.Err(), stream.ErrInvalidConfig)
}
