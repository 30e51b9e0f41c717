package tether_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
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
