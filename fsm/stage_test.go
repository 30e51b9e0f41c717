package fsm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
)

// TestDefineStage: a stage is a state with its own name, the same one for
// the same name, told apart from the lifecycle's own states.
func TestDefineStage(t *testing.T) {
	auth := fsm.DefineStage("Authenticating")
	assert.Equal(t, auth, fsm.DefineStage("Authenticating"), "the same name is the same state")
	other := fsm.DefineStage("Warming_up2")
	assert.NotEqual(t, auth, other)
	assert.Equal(t, "Authenticating", auth.String())
	assert.True(t, auth.IsStage())
	for _, s := range fsm.States() {
		assert.False(t, s.IsStage(), s)
		assert.NotEqual(t, s, auth)
	}
	assert.False(t, fsm.State(200).IsStage(), "a value nobody defined")
	for _, bad := range []string{"", "Open", "1st", "has space", "dash-ed"} {
		assert.Panics(t, func() { fsm.DefineStage(bad) }, bad)
	}
}

// TestLifecycleWithRunsTheStages: the stages sit between dialed and Open,
// in order; each fails to Waiting and closes as Open does; without stages
// it is the lifecycle.
func TestLifecycleWithRunsTheStages(t *testing.T) {
	auth, resub := fsm.DefineStage("Authenticating"), fsm.DefineStage("Resubscribing")
	assert.Equal(t, fsm.Lifecycle().Rules, fsm.LifecycleWith().Rules)
	def := fsm.LifecycleWith(auth, resub)
	require.NoError(t, def.Validate())
	m, err := fsm.NewOf(def)
	require.NoError(t, err)
	defer m.Close()
	ctx := context.Background()
	fire := func(e fsm.Event) fsm.Transition {
		t.Helper()
		tr, err := m.Fire(ctx, fsm.Input{Event: e})
		require.NoError(t, err, e)
		return tr
	}
	fire(fsm.EventConnect)
	assert.Equal(t, auth, fire(fsm.EventDialed).To)
	assert.Equal(t, resub, fire(fsm.EventStageDone).To)
	assert.Equal(t, fsm.Waiting, fire(fsm.EventStageFailed).To)
	fire(fsm.EventRetry)
	fire(fsm.EventDialed)
	fire(fsm.EventStageDone)
	assert.Equal(t, fsm.Open, fire(fsm.EventStageDone).To)
	_, err = m.Fire(ctx, fsm.Input{Event: fsm.EventStageDone})
	assert.ErrorIs(t, err, fsm.ErrForbidden, "no stage event leaves Open")
	for _, e := range []fsm.Event{fsm.EventDropped, fsm.EventHeartbeatTimeout, fsm.EventClose, fsm.EventDisconnect} {
		to, _ := fsm.Next(fsm.Open, e)
		var rule *fsm.Rule
		for i, r := range def.Rules {
			if r.From == auth && r.Event == e {
				rule = &def.Rules[i]
			}
		}
		require.NotNil(t, rule, e)
		assert.Equal(t, to, rule.To, "a stage leaves on %v as Open does", e)
	}

	err = fsm.LifecycleWith(auth, auth).Validate()
	assert.True(t, errors.Is(err, fsm.ErrDuplicate), "a stage given twice: %v", err)
	assert.ErrorIs(t, fsm.LifecycleWith(fsm.Open).Validate(), fsm.ErrInvalidDef, "Open is not a stage")
}
