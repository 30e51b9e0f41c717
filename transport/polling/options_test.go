package polling_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport/polling"
)

func TestBadOptions(t *testing.T) {
	cases := []struct {
		opt  polling.Option
		name string
	}{
		{polling.WithInterval(0), "WithInterval"},
		{polling.WithLongPoll(-time.Second), "WithLongPoll"},
		{polling.WithRequestTimeout(0), "WithRequestTimeout"},
		{polling.WithMaxFailures(0), "WithMaxFailures"},
		{polling.WithBackoff(0, time.Second), "WithBackoff"},
		{polling.WithBackoff(2*time.Second, time.Second), "WithBackoff"},
		{polling.WithMaxRetryAfter(0), "WithMaxRetryAfter"},
		{polling.WithMaxBodySize(0), "WithMaxBodySize"},
		{polling.WithFormat(polling.Format(7)), "WithFormat"},
		{polling.WithPollPath("poll"), "WithPollPath"},
		{polling.WithSendPath("send"), "WithSendPath"},
		{polling.WithURLRewrite(nil), "WithURLRewrite"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := polling.New(tc.opt)
			require.Nil(t, tr)
			require.ErrorIs(t, err, polling.ErrInvalidConfig)
			ce, ok := errors.AsType[*polling.ConfigError](err)
			require.True(t, ok)
			assert.Equal(t, tc.name, ce.Option)
		})
	}
}

func TestNilOptionsMeanDefaults(t *testing.T) {
	tr, err := polling.New(nil, polling.WithClock(nil), polling.WithHTTPClient(nil))
	require.NoError(t, err)
	assert.Equal(t, "polling", tr.Name())
}
