package tether_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

// TestInterceptedAppAnswersStillReachTheHeartbeat: docs/heartbeat.md says
// an application heartbeat's answers are ordinary messages that a
// WithIntercept function may take away from user code. The heartbeat still
// sees them (the round trip is measured, the connection stays up), and
// OnMessage sees only the rest.
func TestInterceptedAppAnswersStillReachTheHeartbeat(t *testing.T) {
	e := newEnv(t)
	isPong := func(m transport.Message) bool { return bytes.Equal(m.Payload, []byte("pong")) }
	rtts := make(chan time.Duration, 4)
	got := make(chan string, 8)
	c := client[string](e,
		tether.WithHeartbeat(policy.Heartbeat{Interval: time.Second, PongTimeout: 500 * time.Millisecond,
			Mode: policy.AppMessage, Message: []byte("ping"), PongMatcher: isPong}),
		tether.WithIntercept(isPong),
		tether.OnRTT(func(d time.Duration) { rtts <- d }),
		tether.OnMessage(func(s string) { got <- s }))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc := e.accept()
	waitState(t, c, fsm.Open)

	for round := range 3 {
		e.waitTimers(1)
		e.clk.Step(time.Second) // the probe
		m, err := sc.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, "ping", string(m.Payload), "round %d", round)
		e.clk.Step(100 * time.Millisecond)
		require.NoError(t, sc.Send(ctx, transport.Text, []byte("pong")))
		require.NoError(t, sc.Send(ctx, transport.Text, []byte("data")))
		select {
		case d := <-rtts:
			assert.Equal(t, 100*time.Millisecond, d, "round %d", round)
		case <-ctx.Done():
			require.FailNow(t, "no round trip measured", "round %d", round)
		}
		select {
		case s := <-got:
			assert.Equal(t, "data", s, "OnMessage sees only what the intercept let through")
		case <-ctx.Done():
			require.FailNow(t, "no message", "round %d", round)
		}
	}
	assert.Equal(t, fsm.Open, c.State(), "answered probes keep the connection")
	assert.Empty(t, got)
}
