package fsm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
)

// pathTo lists the events that lead from Idle to each state.
var pathTo = map[fsm.State][]fsm.Event{
	fsm.Idle:          nil,
	fsm.Connecting:    {fsm.EventConnect},
	fsm.Open:          {fsm.EventConnect, fsm.EventDialed},
	fsm.Closing:       {fsm.EventConnect, fsm.EventDialed, fsm.EventClose},
	fsm.Disconnecting: {fsm.EventConnect, fsm.EventDialed, fsm.EventDisconnect},
	fsm.Waiting:       {fsm.EventConnect, fsm.EventDialFailed},
	fsm.Closed:        {fsm.EventClose},
}

// machineIn returns a machine driven to s. It is closed when the test ends.
func machineIn(t *testing.T, s fsm.State) *fsm.Machine {
	t.Helper()
	m := fsm.New()
	t.Cleanup(func() { _ = m.Close() })
	for _, ev := range pathTo[s] {
		_, err := m.Fire(context.Background(), fsm.Input{Event: ev})
		require.NoError(t, err)
	}
	require.Equal(t, s, m.State())
	return m
}

// TestEveryPair fires every event in every state and checks the outcome
// against an expectation written out here independently of the table.
func TestEveryPair(t *testing.T) {
	want := map[fsm.State]map[fsm.Event]fsm.State{
		fsm.Idle: {fsm.EventConnect: fsm.Connecting, fsm.EventClose: fsm.Closed},
		fsm.Connecting: {fsm.EventDialed: fsm.Open, fsm.EventDialFailed: fsm.Waiting, fsm.EventClose: fsm.Closed,
			fsm.EventDisconnect: fsm.Idle},
		fsm.Open: {fsm.EventDropped: fsm.Waiting, fsm.EventHeartbeatTimeout: fsm.Waiting,
			fsm.EventClose: fsm.Closing, fsm.EventDisconnect: fsm.Disconnecting},
		fsm.Closing:       {fsm.EventClosed: fsm.Closed, fsm.EventDropped: fsm.Closed},
		fsm.Disconnecting: {fsm.EventClosed: fsm.Idle, fsm.EventDropped: fsm.Idle, fsm.EventClose: fsm.Closing},
		fsm.Waiting: {fsm.EventRetry: fsm.Connecting, fsm.EventGiveUp: fsm.Closed, fsm.EventClose: fsm.Closed,
			fsm.EventDisconnect: fsm.Idle},
		fsm.Closed: {},
	}
	allowed := 0
	for _, s := range fsm.States() {
		for _, ev := range fsm.Events() {
			t.Run(s.String()+"/"+ev.String(), func(t *testing.T) {
				m := machineIn(t, s)
				before := m.Last()
				tr, err := m.Fire(context.Background(), fsm.Input{Event: ev})
				to, ok := want[s][ev]
				if ok {
					require.NoError(t, err)
					assert.Equal(t, s, tr.From)
					assert.Equal(t, to, tr.To)
					assert.Equal(t, ev, tr.Event)
					assert.Equal(t, before.Seq+1, tr.Seq)
					assert.Equal(t, to, m.State())
					got, ok := fsm.Next(s, ev)
					assert.True(t, ok)
					assert.Equal(t, to, got)
					return
				}
				var fe *fsm.ForbiddenError
				require.ErrorAs(t, err, &fe)
				assert.ErrorIs(t, err, fsm.ErrForbidden)
				assert.Equal(t, s, fe.State)
				assert.Equal(t, ev, fe.Event)
				assert.Equal(t, s, m.State(), "a forbidden event changes nothing")
				assert.Equal(t, before, m.Last(), "a forbidden event emits nothing")
				_, ok = fsm.Next(s, ev)
				assert.False(t, ok)
			})
			if _, ok := want[s][ev]; ok {
				allowed++
			}
		}
	}
	assert.Len(t, fsm.Table(), allowed, "the table holds exactly the expected rules")
}

func TestClosedIsTerminal(t *testing.T) {
	for _, s := range fsm.States() {
		assert.Equal(t, s == fsm.Closed, s.Terminal(), s.String())
		assert.Equal(t, s.Terminal(), len(fsm.Allowed(s)) == 0, "only a terminal state allows no event: %s", s)
	}
}

func TestEveryStateReachableAndNamed(t *testing.T) {
	reached := map[fsm.State]bool{fsm.Idle: true}
	for _, r := range fsm.Table() {
		reached[r.To] = true
		assert.NotEmpty(t, r.Meaning, "rule %s --%s--> %s needs a meaning", r.From, r.Event, r.To)
	}
	names := map[string]bool{}
	for _, s := range fsm.States() {
		assert.True(t, reached[s], "state %s is unreachable", s)
		assert.False(t, names[s.String()], "duplicate name %s", s)
		names[s.String()] = true
	}
	for _, ev := range fsm.Events() {
		assert.False(t, names[ev.String()], "duplicate name %s", ev)
		names[ev.String()] = true
	}
}

func TestStableNames(t *testing.T) {
	assert.Equal(t, []string{"Idle", "Connecting", "Open", "Closing", "Disconnecting", "Waiting", "Closed"},
		mapSlice(fsm.States(), fsm.State.String))
	assert.Equal(t, []string{"connect", "dialed", "dial_failed", "dropped", "heartbeat_timeout", "close", "closed",
		"retry", "give_up", "disconnect", "stage_done", "stage_failed"}, mapSlice(fsm.Events(), fsm.Event.String))
	assert.Equal(t, "none", fsm.EventNone.String())
	assert.Equal(t, "State(42)", fsm.State(42).String())
	assert.Equal(t, "Event(42)", fsm.Event(42).String())
}

func TestForbiddenErrorIsNotStale(t *testing.T) {
	m := machineIn(t, fsm.Idle)
	_, err := m.Fire(context.Background(), fsm.Input{Event: fsm.EventDialed})
	assert.False(t, errors.Is(err, fsm.ErrStale))
	assert.False(t, errors.Is(err, fsm.ErrMachineClosed))
}

func mapSlice[T any](in []T, f func(T) string) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
