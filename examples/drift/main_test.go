package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDrift runs the program against its embedded server, in real time,
// and checks the routing (every envelope reached the handler or stream of
// its type) and the give-up: three attempts scheduled, then a give_up
// transition to Closed whose cause is a *policy.StopError matching
// policy.ErrAttemptsExhausted, which Connect reports too.
func TestDrift(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := demo(ctx, &out)
	require.NoError(t, err, out.String())

	// Routing.
	var detected []Detected
	var resolved []Resolved
	for _, m := range script {
		switch d := m.Data.(type) {
		case Detected:
			detected = append(detected, d)
		case Resolved:
			resolved = append(resolved, d)
		}
	}
	assert.Equal(t, detected, res.Detected)
	assert.Equal(t, resolved, res.Resolved)
	assert.Equal(t, []Detected{{"sg-1", "ingress", "10.0.0.0/8", "0.0.0.0/0"}}, res.Open)

	// The reconnect attempts: 1, 2, 3, at 100, 200 and 400 ms.
	require.Len(t, res.Retries, 3)
	for i, r := range res.Retries {
		assert.Equal(t, i+1, r.Attempt)
		assert.Equal(t, 100*time.Millisecond<<i, r.Delay)
	}

	// The give-up.
	assert.Equal(t, fsm.Waiting, res.GiveUp.From)
	assert.Equal(t, fsm.EventGiveUp, res.GiveUp.Event)
	assert.Equal(t, fsm.Closed, res.GiveUp.To)
	var stop *policy.StopError
	require.ErrorAs(t, res.GiveUp.Cause, &stop)
	assert.Equal(t, policy.RuleMaxAttempts, stop.Rule)
	assert.Equal(t, 4, stop.Attempt)
	assert.ErrorIs(t, res.GiveUp.Cause, policy.ErrAttemptsExhausted)
	assert.Equal(t, fsm.Closed, res.Final)

	// Connect, called after the give-up, returns it.
	var te *tether.TransitionError
	require.ErrorAs(t, res.ConnectErr, &te)
	assert.Equal(t, fsm.EventGiveUp, te.Transition.Event)
	assert.ErrorIs(t, res.ConnectErr, policy.ErrAttemptsExhausted)

	// The printed story, as a second check.
	s := out.String()
	for _, want := range []string{
		"Waiting --give_up--> Closed",
		"cause        *policy.StopError: rule max-attempts, attempt 4 refused",
		"attempts exhausted: true",
		"final state  Closed (status closed)",
	} {
		assert.Contains(t, s, want)
	}
}
