package main

import (
	"errors"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/policy"
)

// parseConnFlags parses args as the connection flags of dial and trace.
func parseConnFlags(t *testing.T, args ...string) *connFlags {
	t.Helper()
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f connFlags
	f.register(fs)
	require.NoError(t, fs.Parse(args))
	return &f
}

// TestPongTimeoutDefault: docs/cli.md says -pong-timeout defaults to 10 s,
// or 2/3 of -heartbeat when that is shorter than 15 s.
func TestPongTimeoutDefault(t *testing.T) {
	for _, tc := range []struct {
		args           []string
		interval, pong time.Duration
	}{
		{nil, 15 * time.Second, 10 * time.Second},
		{[]string{"-heartbeat", "30s"}, 30 * time.Second, 10 * time.Second},
		{[]string{"-heartbeat", "3s"}, 3 * time.Second, 2 * time.Second},
		{[]string{"-heartbeat", "3s", "-pong-timeout", "1s"}, 3 * time.Second, time.Second},
	} {
		h, err := parseConnFlags(t, tc.args...).heartbeatSettings()
		require.NoError(t, err, "%v", tc.args)
		assert.Equal(t, tc.interval, h.Interval, "%v", tc.args)
		assert.Equal(t, tc.pong, h.PongTimeout, "%v", tc.args)
	}
	h, err := parseConnFlags(t, "-heartbeat", "0").heartbeatSettings()
	require.NoError(t, err)
	assert.False(t, h.Enabled(), "-heartbeat 0 turns it off")
}

// TestReconnectSchedules: each -reconnect name gives the schedule
// docs/cli.md lists.
func TestReconnectSchedules(t *testing.T) {
	failed := errors.New("connection refused")
	delays := func(args ...string) (out []time.Duration, stopAt int) {
		p, err := parseConnFlags(t, args...).reconnectPolicy()
		require.NoError(t, err, "%v", args)
		for attempt := 1; attempt <= 12; attempt++ {
			b, _ := p.Bounds(policy.RetryContext{Attempt: attempt, Err: failed})
			if b.Stop {
				return out, attempt
			}
			out = append(out, b.Max)
		}
		return out, 0
	}
	ms := time.Millisecond
	got, stop := delays("-reconnect", "signalr")
	assert.Equal(t, []time.Duration{0, 2 * time.Second, 10 * time.Second, 30 * time.Second}, got)
	assert.Equal(t, 5, stop, "gives up after the fourth retry")

	got, stop = delays("-reconnect", "phoenix")
	assert.Equal(t, []time.Duration{10 * ms, 50 * ms, 100 * ms, 150 * ms, 200 * ms, 250 * ms, 500 * ms, 1000 * ms, 2000 * ms,
		5 * time.Second, 5 * time.Second, 5 * time.Second}, got)
	assert.Zero(t, stop, "never gives up")

	got, stop = delays("-reconnect", "constant:2s", "-max-attempts", "3")
	assert.Equal(t, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}, got)
	assert.Equal(t, 4, stop)

	got, stop = delays("-reconnect", "never")
	assert.Empty(t, got)
	assert.Equal(t, 1, stop, "gives up at the first failure")

	p, err := parseConnFlags(t, "-initial", "2s", "-max", "5s").reconnectPolicy()
	require.NoError(t, err)
	for attempt, want := range []time.Duration{2 * time.Second, 3200 * ms, 5 * time.Second, 5 * time.Second} {
		b, _ := p.Bounds(policy.RetryContext{Attempt: attempt + 1, Err: failed})
		assert.Equal(t, want, b.Max, "exponential, attempt %d: times 1.6 up to -max", attempt+1)
		assert.Equal(t, want/2, b.Min, "with equal jitter")
	}
}
