package adapters

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestRecordMatchesAQueue: whatever the interleaving of writes,
// confirmations and a final drain, the ring holds exactly what a plain
// queue would, in the same order, counts the same bytes, and keeps no
// reference to a confirmed value anywhere in its memory.
func TestRecordMatchesAQueue(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var r record
		var model []Sent
		var marks []uint64
		mark := uint64(0)
		steps := rapid.IntRange(1, 400).Draw(t, "steps")
		for range steps {
			if rapid.IntRange(0, 3).Draw(t, "op") > 0 {
				mark++
				e := Sent{ID: mark, Value: new(int), Size: rapid.IntRange(0, 100).Draw(t, "size")}
				r.push(e, mark)
				model = append(model, e)
				marks = append(marks, mark)
				continue
			}
			upTo := rapid.Uint64Range(0, mark).Draw(t, "confirm")
			k := 0
			for k < len(model) && marks[k] <= upTo {
				k++
			}
			require.Equal(t, k, r.confirm(upTo))
			model, marks = model[k:], marks[k:]
			bytes := 0
			for _, e := range model {
				bytes += e.Size
			}
			require.Equal(t, len(model), r.n)
			require.Equal(t, bytes, r.bytes)
			live := 0
			for _, e := range r.ring {
				if e.Value != nil {
					live++
				}
			}
			require.Equal(t, len(model), live, "confirmed entries are cleared")
		}
		got := r.drain()
		require.Len(t, got, len(model))
		for i := range model {
			require.Equal(t, model[i].ID, got[i].ID, "entry %d", i)
		}
		require.Zero(t, r.n)
		require.Nil(t, r.ring, "drain keeps no memory")
	})
}
