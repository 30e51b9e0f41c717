package rx_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/rx"
)

// A traffic light: a machine with nothing to do with connections.
type light string

type change string

func trafficLight() fsm.Def[light, change] {
	return fsm.Def[light, change]{
		Initial: "red",
		Rules: []fsm.RuleOf[light, change]{
			{From: "red", Event: "go", To: "green"},
			{From: "green", Event: "caution", To: "amber"},
			{From: "amber", Event: "stop", To: "red"},
		},
	}
}

// TestMachineObservable: a user's machine seen through Rx: every
// transition, in order, starting with the snapshot, and the Observable
// completes when the machine closes.
func TestMachineObservable(t *testing.T) {
	m, err := fsm.NewOf(trafficLight())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	states := rx.Machine(ctx, m).Map(func(_ context.Context, v any) (any, error) {
		return string(v.(fsm.TransitionOf[light, change]).To), nil
	})
	const cycles = 200
	go func() {
		for range cycles {
			for _, e := range []change{"go", "caution", "stop"} {
				_, err := m.Fire(ctx, fsm.InputOf[change]{Event: e})
				if !assert.NoError(t, err) {
					break
				}
			}
		}
		_ = m.Close()
	}()
	var got []any
	for it := range states.Observe() {
		require.NoError(t, it.E)
		got = append(got, it.V)
	}
	require.Len(t, got, 1+3*cycles, "the snapshot and every transition")
	assert.Equal(t, "red", got[0])
	for i := 1; i < len(got); i++ {
		assert.Equal(t, []string{"green", "amber", "red"}[(i-1)%3], got[i], "transition %d", i)
	}
}

// TestMachineObservableEndsWithCtx: ending ctx frees the subscription and
// its goroutine (goleak checks) while the machine lives on.
func TestMachineObservableEndsWithCtx(t *testing.T) {
	m, err := fsm.NewOf(trafficLight())
	require.NoError(t, err)
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	obs := rx.Machine(ctx, m)
	first := <-obs.Observe()
	assert.Equal(t, light("red"), first.V.(fsm.TransitionOf[light, change]).To)
	cancel()
	for range obs.Observe() { // drains and completes
	}
}

func ExampleMachine() {
	m, _ := fsm.NewOf(trafficLight())
	ctx := context.Background()
	greens := rx.Machine(ctx, m).Filter(func(v any) bool {
		return v.(fsm.TransitionOf[light, change]).To == "green"
	}).Count()
	for _, e := range []change{"go", "caution", "stop", "go"} {
		_, _ = m.Fire(ctx, fsm.InputOf[change]{Event: e})
	}
	_ = m.Close() // completes the Observable
	n, _ := greens.Get()
	fmt.Println("green", n.V, "times")
	// Output:
	// green 2 times
}
