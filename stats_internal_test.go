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

// BenchmarkStatsCounting measures what counting costs: per received message
// (a plain add, published once per burst of 16) and per accepted Send, from
// parallel senders.
func BenchmarkStatsCounting(b *testing.B) {
	b.Run("receive", func(b *testing.B) {
		var s clientStats
		for i := range b.N {
			s.read(64)
			if i%16 == 15 {
				s.publishIn()
			}
		}
	})
	b.Run("send-parallel", func(b *testing.B) {
		var s clientStats
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.sent(64)
			}
		})
	})
}
