package fsm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
)

// A compiled definition makes machines that behave as NewOf's, draws the
// same diagram, and refuses an invalid definition as NewOf does.
func TestCompiledMakesMachines(t *testing.T) {
	keypad := "1234"
	def := doorDef(&keypad)
	cd, err := fsm.Compile(def)
	require.NoError(t, err)
	want, err := def.Diagram(fsm.Mermaid)
	require.NoError(t, err)
	got, err := cd.Diagram(fsm.Mermaid)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	ctx := context.Background()
	var trace []fsm.TransitionOf[Door, DoorEvent]
	for range 2 { // two machines from one compilation are independent
		m, err := cd.New()
		require.NoError(t, err)
		tr, err := m.Fire(ctx, fsm.InputOf[DoorEvent]{Event: OpenDoor})
		require.NoError(t, err)
		assert.Equal(t, uint64(1), tr.Seq)
		assert.Equal(t, DoorOpen, m.State())
		trace = append(trace[:0], tr)
		require.NoError(t, m.Close())
		assert.Equal(t, m.TraceMermaid(trace), cd.TraceMermaid(trace))
		assert.Equal(t, m.TraceDOT(trace), cd.TraceDOT(trace))
	}

	bad := def
	bad.Rules = append(bad.Rules[:len(bad.Rules):len(bad.Rules)], bad.Rules[0])
	_, err = fsm.Compile(bad)
	require.ErrorIs(t, err, fsm.ErrInvalidDef)
	require.ErrorIs(t, err, fsm.ErrDuplicate)

	_, err = cd.New(fsm.WithRejected(func(fsm.InputOf[string], error) {}))
	assert.True(t, errors.Is(err, fsm.ErrBadOption))
}

// BenchmarkNewOf is the cost of a machine made from a Def: the definition
// is validated and indexed on every call.
func BenchmarkNewOf(b *testing.B) {
	keypad := ""
	def := doorDef(&keypad)
	b.ReportAllocs()
	for b.Loop() {
		m, err := fsm.NewOf(def)
		if err != nil {
			b.Fatal(err)
		}
		_ = m.Close()
	}
}

// BenchmarkCompiledNew is the cost of a machine made from a definition
// compiled once.
func BenchmarkCompiledNew(b *testing.B) {
	keypad := ""
	cd, err := fsm.Compile(doorDef(&keypad))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m, err := cd.New()
		if err != nil {
			b.Fatal(err)
		}
		_ = m.Close()
	}
}
