package tether_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// TestBareStrategyKeepsTheRules: WithReconnect(policy.Exponential{...})
// used to drop every rule (32 connections in 1 s to a server closing with
// the terminal 4500); a bare strategy is now composed with the default
// rules, so the client gives up after the first.
func TestBareStrategyKeepsTheRules(t *testing.T) {
	e := newEnv(t)
	c := client[string](e, tether.WithReconnect(policy.Exponential{Initial: time.Second, Max: 2 * time.Second, Jitter: policy.JitterNone}))
	waitState(t, c, fsm.Open)
	e.accept().Close(4500, "terminal by the default rules")
	waitState(t, c, fsm.Closed)
	assert.ErrorIs(t, c.Err(), policy.ErrTerminalCloseCode)
	assert.Len(t, e.srv.Dials(), 1, "one connection, no retry")
}

// TestBareStrategyIsValidated: an invalid bare strategy is refused by New,
// not at run time.
func TestBareStrategyIsValidated(t *testing.T) {
	_, err := tether.New[string]("ws://example.invalid/", tether.WithAutoConnect(false),
		tether.WithReconnect(policy.Exponential{Initial: time.Second, Max: time.Millisecond}))
	var oe *tether.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "WithReconnect", oe.Option)
	assert.ErrorIs(t, err, policy.ErrInvalidConfig)
}

// TestOptionErrorsSayWhatToFix: "invalid value" named neither the
// problem nor the fix.
func TestOptionErrorsSayWhatToFix(t *testing.T) {
	cases := []struct {
		opt  tether.Option
		says string
	}{
		{tether.WithSendBuffer(0, 0, stream.Block), "want at least 1 message and 1 byte"},
		{tether.WithSendBuffer(1, 1, stream.Disconnect), "one of Block, DropOldest, DropNewest, Fail"},
		{tether.WithTraceLimit(0), "want at least 1"},
		{tether.WithConnectTimeout(-time.Second), "want a positive duration"},
		{tether.OnMessage(func(int) {}), "func(int)"},
	}
	for _, tc := range cases {
		_, err := tether.New[string]("ws://example.invalid/", tc.opt, tether.WithAutoConnect(false))
		var oe *tether.OptionError
		require.ErrorAs(t, err, &oe)
		assert.Contains(t, err.Error(), tc.says)
	}
	_, err := tether.New[string]("localhost:8080", tether.WithAutoConnect(false))
	require.ErrorIs(t, err, transport.ErrBadTarget)
	assert.Contains(t, err.Error(), "ws://localhost:8080", "the error shows the URL it wanted")
}
