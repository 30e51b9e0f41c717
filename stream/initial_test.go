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

func TestWithInitialTypeMismatch(t *testing.T) {
	h := stream.NewHub[int]()
	s := h.Subscribe(context.Background(), stream.WithInitial("seven"))
	var ce *stream.ConfigError
	require.ErrorAs(t, s.Err(), &ce)
	assert.Equal(t, "WithInitial", ce.Option)
}
