package tether

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStatsCountingAllocatesNothing: counting on the message paths costs no
// allocation.
func TestStatsCountingAllocatesNothing(t *testing.T) {
	var s clientStats
	allocs := testing.AllocsPerRun(1000, func() {
		s.read(16)
		s.read(32)
		s.publishIn()
		s.sent(64)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, uint64(2002), s.msgsIn.Load()) // AllocsPerRun runs it once more
	assert.Equal(t, uint64(48*1001), s.bytesIn.Load())
}
