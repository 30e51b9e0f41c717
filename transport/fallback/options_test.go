package fallback_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport/fallback"
	"github.com/tether-go/tether/transport/memory"
)

func TestBadOptions(t *testing.T) {
	srv, err := memory.NewServer()
	require.NoError(t, err)
	cases := []struct {
		opt  fallback.Option
		name string
	}{
		{fallback.WithSwitchAfter(0), "WithSwitchAfter"},
		{fallback.WithProxyRefusal(nil), "WithProxyRefusal"},
		{fallback.WithProbeInterval(0), "WithProbeInterval"},
		{fallback.WithProbeTimeout(-time.Second), "WithProbeTimeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := fallback.New(srv.Transport(), srv.Transport(), tc.opt)
			require.Nil(t, tr)
			require.ErrorIs(t, err, fallback.ErrInvalidConfig)
			ce, ok := errors.AsType[*fallback.ConfigError](err)
			require.True(t, ok)
			assert.Equal(t, tc.name, ce.Option)
		})
	}
}

func TestNilTransports(t *testing.T) {
	srv, err := memory.NewServer()
	require.NoError(t, err)
	_, err = fallback.New(nil, srv.Transport())
	require.ErrorIs(t, err, fallback.ErrInvalidConfig)
	_, err = fallback.New(srv.Transport(), nil)
	require.ErrorIs(t, err, fallback.ErrInvalidConfig)
}

func TestNilOptionsMeanDefaults(t *testing.T) {
	srv, err := memory.NewServer()
	require.NoError(t, err)
	tr, err := fallback.New(srv.Transport(), srv.Transport(), nil, fallback.WithClock(nil), fallback.WithOnSwitch(nil))
	require.NoError(t, err)
	assert.Equal(t, "memory", tr.Active())
}
