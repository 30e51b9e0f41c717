package tether

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
)

// TestDropsDuringShutdownAreAggregated: the drops that come during the
// shutdown (values a subscriber ended by Close could not take, from a burst
// the reader was handing over) are reported as one count per subscriber by
// the next flush, not one report per value; after finish, a drop is
// reported at once.
func TestDropsDuringShutdownAreAggregated(t *testing.T) {
	var got []*SubscriberDropError
	d := &dropTally{clk: tethertest.NewFakeClock(time.Time{}), report: func(e *SubscriberDropError) { got = append(got, e) }}
	a, b := dropKey{"messages", stream.SubInfo{ID: 1}}, dropKey{"messages", stream.SubInfo{ID: 2}}
	d.add(a) // the first is reported at once
	require.Len(t, got, 1)
	d.flush() // the shutdown begins
	for range 100 {
		d.add(a)
		d.add(b)
	}
	assert.Len(t, got, 1, "held until the readers are done")
	d.finish() // the readers are done
	require.Len(t, got, 3)
	counts := map[uint64]uint64{}
	for _, e := range got[1:] {
		counts[e.Subscriber.ID] = e.Count
	}
	assert.Equal(t, map[uint64]uint64{1: 100, 2: 100}, counts)
	d.add(b)
	require.Len(t, got, 4, "after the last flush, at once")
	assert.Equal(t, uint64(1), got[3].Count)
}
