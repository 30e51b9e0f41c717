package memory_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport/memory"
)

func TestBadOptions(t *testing.T) {
	cases := []struct {
		opt  memory.Option
		name string
	}{
		{memory.WithQueueLimit(0), "WithQueueLimit"},
		{memory.WithMaxMessageSize(-1), "WithMaxMessageSize"},
		{memory.WithCloseTimeout(0), "WithCloseTimeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := memory.NewServer(tc.opt)
			require.Nil(t, srv)
			require.ErrorIs(t, err, memory.ErrInvalidConfig)
			ce, ok := errors.AsType[*memory.ConfigError](err)
			require.True(t, ok)
			assert.Equal(t, tc.name, ce.Option)

			c, sc, err := memory.Pipe(tc.opt)
			require.Nil(t, c)
			require.Nil(t, sc)
			require.ErrorIs(t, err, memory.ErrInvalidConfig)
		})
	}
}

func TestNilOptionsAreIgnored(t *testing.T) {
	c, _, err := memory.Pipe(nil, memory.WithClock(nil), memory.WithCloseTimeout(time.Second))
	require.NoError(t, err)
	require.NoError(t, c.Close(1000, ""))
}
