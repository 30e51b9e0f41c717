package stream_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/stream"
)

func TestWithInitialComesFirst(t *testing.T) {
	h := stream.NewHub[int]()
	s := h.Subscribe(context.Background(), stream.WithInitial(7))
	h.Publish(8)
	h.Close()
	var got []int
	for v := range s.C() {
		got = append(got, v)
	}
	assert.Equal(t, []int{7, 8}, got)
}

func TestWithInitialObservable(t *testing.T) {
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := h.Observable(ctx, stream.WithInitial(1))
	h.Publish(2)
	h.Close()
	var got []any
	for item := range obs.Observe() {
		require.NoError(t, item.E)
		got = append(got, item.V)
	}
	assert.Equal(t, []any{1, 2}, got)
}

func TestWithInitialTypeMismatch(t *testing.T) {
	h := stream.NewHub[int]()
	s := h.Subscribe(context.Background(), stream.WithInitial("seven"))
	var ce *stream.ConfigError
	require.ErrorAs(t, s.Err(), &ce)
	assert.Equal(t, "WithInitial", ce.Option)
}
