package adapters

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionAccounting(t *testing.T) {
	s := &Session{}
	for id := uint64(1); id <= maxInflight+10; id++ {
		_, ok := s.Wrote(id, nil, 1)
		require.True(t, ok)
	}
	assert.EqualValues(t, 10, s.Evicted(), "the oldest beyond the bound are forgotten")
	s.Confirm(maxInflight) // confirms marks 1..4096; 11..4096 were live
	left := s.Unconfirmed()
	require.Len(t, left, 10)
	assert.EqualValues(t, maxInflight+1, left[0].ID)
	assert.EqualValues(t, maxInflight+10, left[9].ID)
	_, ok := s.Wrote(99, nil, 1)
	assert.False(t, ok, "a settled session refuses new writes")
}

// BenchmarkWroteAtTheBound: recording a write stays O(1) when the bound
// is reached (it used to shift the whole list).
func BenchmarkWroteAtTheBound(b *testing.B) {
	s := &Session{}
	for id := uint64(1); id <= maxInflight; id++ {
		s.Wrote(id, nil, 1)
	}
	b.ReportAllocs()
	id := uint64(maxInflight)
	for b.Loop() {
		id++
		s.Wrote(id, nil, 64)
	}
}
