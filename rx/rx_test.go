package rx_test

import (
	"context"
	"sync"
	"testing"

	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/internal/chantest"
	"github.com/tether-go/tether/rx"
	"github.com/tether-go/tether/stream"
)

// items collects an rxgo channel until it closes.
func items(t *testing.T, ch <-chan rxgo.Item) (values []any, errs []error) {
	t.Helper()
	for _, it := range chantest.Drain(t, ch) {
		if it.Error() {
			errs = append(errs, it.E)
			continue
		}
		values = append(values, it.V)
	}
	return values, errs
}

func anys(xs []int) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func TestTwoObservablesEachGetEveryItem(t *testing.T) {
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := rx.Observe(ctx, h, stream.WithBuffer(4), stream.WithOverflow(stream.Block))
	b := rx.Observe(ctx, h, stream.WithBuffer(4), stream.WithOverflow(stream.Block))
	require.Equal(t, 2, h.Len())
	const n = 500
	go func() {
		for i := range n {
			h.Publish(i)
		}
		h.Close() // completes both Observables
	}()
	var gotA []any
	var wg sync.WaitGroup
	wg.Go(func() {
		for it := range a.Observe() {
			gotA = append(gotA, it.V)
		}
	})
	gotB, errs := items(t, b.Observe())
	wg.Wait()
	require.Empty(t, errs)
	require.Equal(t, anys(chantest.Seq(0, n)), gotA)
	require.Equal(t, anys(chantest.Seq(0, n)), gotB)
}

func TestObservablePipeline(t *testing.T) {
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := rx.Observe(ctx, h).
		Filter(func(v any) bool { return v.(int)%2 == 0 }).
		Map(func(_ context.Context, v any) (any, error) { return v.(int) * 10, nil })
	for i := range 10 {
		h.Publish(i)
	}
	h.Close()
	got, errs := items(t, obs.Observe())
	require.Empty(t, errs)
	require.Equal(t, []any{0, 20, 40, 60, 80}, got)
}

func TestObservableForEach(t *testing.T) {
	h := stream.NewHub[string]()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []string
	completed := false
	done := rx.Observe(ctx, h).ForEach(
		func(v any) { got = append(got, v.(string)) },
		func(err error) { assert.NoError(t, err) },
		func() { completed = true },
	)
	h.Publish("a")
	h.Publish("b")
	h.Close()
	chantest.WaitClosed(t, done)
	require.Equal(t, []string{"a", "b"}, got)
	require.True(t, completed)
}

func TestObservableCancelFreesEverything(t *testing.T) {
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(context.Background())
	obs := rx.Observe(ctx, h, stream.WithBuffer(1), stream.WithOverflow(stream.Block))
	pipeline := obs.Map(func(_ context.Context, v any) (any, error) { return v, nil }).
		Filter(func(any) bool { return true })
	out := pipeline.Observe()
	h.Publish(1)
	require.Equal(t, 1, chantest.Recv(t, out).V)
	// The consumer walks away with items still flowing: a Block publisher
	// is waiting on the full queue while the operators wait on the consumer.
	published := make(chan struct{})
	go func() {
		for i := range 10 {
			h.Publish(i)
		}
		close(published)
	}()
	cancel()
	chantest.WaitClosed(t, published) // the blocked publisher was released
	chantest.Drain(t, out)            // the operators stopped and closed their output
	require.Zero(t, h.Len())
	// No producer or operator goroutine is left behind (the AfterFunc that
	// freed the subscriber may still be returning; VerifyNone retries).
	goleak.VerifyNone(t)
	h.Close()
}

func TestObservableRawCancelClosesChannel(t *testing.T) {
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(context.Background())
	obs := rx.Observe(ctx, h)
	h.Publish(1)
	cancel()
	got, _ := items(t, obs.Observe()) // the queue is closed: observing ends
	require.LessOrEqual(t, len(got), 1)
	require.Zero(t, h.Len())
}

func TestObservableDisconnectEmitsError(t *testing.T) {
	h := stream.NewHub[int]()
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var dropped []int
	obs := rx.Observe(ctx, h, stream.WithBuffer(2), stream.WithOverflow(stream.Disconnect),
		stream.OnDrop(func(v int) { dropped = append(dropped, v) }))
	for i := range 4 {
		h.Publish(i)
	}
	require.Zero(t, h.Len())
	got, errs := items(t, obs.Observe())
	require.Equal(t, []any{0, 1}, got)
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], stream.ErrSlowSubscriber)
	require.Equal(t, []int{2}, dropped)
}

func TestObservableDropOldestReportsTypedValues(t *testing.T) {
	var hubDropped []int
	h := stream.NewHub[int](stream.OnAnyDrop(func(_ stream.SubInfo, v int) { hubDropped = append(hubDropped, v) }))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := rx.Observe(ctx, h, stream.WithBuffer(2), stream.WithOverflow(stream.DropOldest))
	for i := range 5 {
		h.Publish(i)
	}
	h.Close()
	got, _ := items(t, obs.Observe())
	require.Equal(t, []any{3, 4}, got)
	require.Equal(t, []int{0, 1, 2}, hubDropped)
}

func TestObservableBadOption(t *testing.T) {
	for _, n := range []int{-1, 1 << 40} { // 1<<40: a channel that size would exhaust memory
		h := stream.NewHub[int]()
		_, errs := items(t, rx.Observe(context.Background(), h, stream.WithBuffer(n)).Observe())
		require.Len(t, errs, 1)
		require.ErrorIs(t, errs[0], stream.ErrInvalidConfig)
		require.Zero(t, h.Len())
		h.Close()
	}
}

func TestObservableOnClosedHubCompletes(t *testing.T) {
	h := stream.NewHub[int]()
	h.Close()
	got, errs := items(t, rx.Observe(context.Background(), h).Observe())
	require.Empty(t, got)
	require.Empty(t, errs)
}
