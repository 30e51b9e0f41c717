package tether_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport/memory"
)

// The reconnect policy is asked exactly once per wait to reconnect
// (docs/reconnect.md: "p.Next(rc), exactly once per attempt") and never
// about a close the user asked for ("A close the user asked for never
// reaches the policy"): 300 random steps of server drops, server closes,
// refused dials, and the user's Disconnect from Open, Waiting and
// Connecting, then Close from where the walk ended. The policy's calls
// are counted against the transitions into Waiting, and OnClose's against
// OnOpen's.
func TestThePolicyIsAskedOncePerWaitAndNeverAboutAUserClose(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { policyWalk(t, seed, 100) })
	}
}

func policyWalk(t *testing.T, seed uint64, steps int) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	e := newEnv(t)
	var asked, waits, opens, closes atomic.Int64
	counted := policy.Func(func(rc policy.RetryContext) policy.Decision {
		asked.Add(1)
		assert.Error(t, rc.Err, "the policy is asked about a failure")
		return policy.Decision{Delay: time.Second}
	})
	c := client[string](e, tether.WithReconnect(counted), tether.WithAutoConnect(false),
		tether.OnTransition(func(tr fsm.Transition) {
			if tr.To == fsm.Waiting {
				waits.Add(1)
			}
		}),
		tether.OnOpen(func(fsm.Transition) { opens.Add(1) }),
		tether.OnClose(func(fsm.Transition) { closes.Add(1) }))
	rng := rand.New(rand.NewPCG(seed, seed))

	var sc *memory.ServerConn // the server's end of the open connection
	// open connects from Idle or Waiting.
	open := func() {
		if c.State() == fsm.Waiting {
			e.clk.Step(time.Second)
		} else {
			require.NoError(t, c.Connect(ctx))
		}
		sc = e.accept()
		waitState(t, c, fsm.Open)
	}
	// waiting waits until the client waits to reconnect: the policy has
	// been asked once its timer is armed.
	waiting := func() {
		t.Helper()
		waitState(t, c, fsm.Waiting)
		e.waitTimers(1)
	}
	// userOnly runs a user's close and checks that the policy heard
	// nothing of it.
	userOnly := func(what string, f func()) {
		t.Helper()
		before := asked.Load()
		f()
		require.Equal(t, before, asked.Load(), "the policy was asked about %s", what)
	}
	for range steps {
		if c.State() != fsm.Open {
			open()
		}
		switch rng.IntN(6) {
		case 0: // the server vanishes: one wait, one question
			before := asked.Load()
			sc.Drop()
			waiting()
			require.Equal(t, before+1, asked.Load())
		case 1: // the server closes: the same
			before := asked.Load()
			sc.Close(1001, "going away")
			waiting()
			require.Equal(t, before+1, asked.Load())
		case 2: // the user disconnects an open connection
			userOnly("Disconnect from Open", func() { require.NoError(t, c.Disconnect(ctx)) })
		case 3: // the user disconnects while the client waits to reconnect
			sc.Drop()
			waiting()
			userOnly("Disconnect from Waiting", func() { require.NoError(t, c.Disconnect(ctx)) })
		case 4: // the user disconnects a dial in progress
			e.srv.Script(memoryHang())
			userOnly("Disconnect from Connecting", func() {
				require.NoError(t, c.Disconnect(ctx))
				connected := make(chan error, 1)
				go func() { connected <- c.Connect(ctx) }()
				waitState(t, c, fsm.Connecting)
				e.accept() // the hanging dial's end, which Accept hands out too
				require.NoError(t, c.Disconnect(ctx))
				assert.ErrorIs(t, <-connected, tether.ErrDisconnected)
			})
		case 5: // a refused dial: one wait, one question
			e.srv.Script(memoryRefuse(503))
			before := asked.Load()
			sc.Drop()
			waiting() // the drop
			e.clk.Step(time.Second)
			waiting() // the refusal: its timer is the next one
			require.Equal(t, before+2, asked.Load())
		}
	}
	if rng.IntN(2) == 0 {
		open()
	}
	userOnly("Close from "+c.State().String(), func() { require.NoError(t, c.Close(ctx)) })
	waitDone(t, c)
	assert.Equal(t, waits.Load(), asked.Load(), "one question per wait to reconnect")
	assert.Positive(t, waits.Load())
	// And OnClose fires exactly once per connection that opened, whoever
	// ended it (README).
	assert.Equal(t, opens.Load(), closes.Load(), "one OnClose per OnOpen")
	assert.Positive(t, opens.Load())
}
