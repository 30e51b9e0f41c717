package tether

import (
	"context"
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

// TestDropsAfterTheFirstComeOncePerSecond: after a subscriber's first drop
// (reported at once), its drops are counted and reported once a second of
// the client's clock, each subscriber on its own second: the tick that
// reports one re-arms itself for another still waiting (an audit removed
// that and every test passed: the second subscriber's count waited for its
// next drop, or the shutdown).
func TestDropsAfterTheFirstComeOncePerSecond(t *testing.T) {
	clk := tethertest.NewFakeClock(time.Time{})
	reports := make(chan *SubscriberDropError, 8)
	d := &dropTally{clk: clk, report: func(e *SubscriberDropError) { reports <- e }}
	defer d.finish()
	a, b := dropKey{"messages", stream.SubInfo{ID: 1}}, dropKey{"messages", stream.SubInfo{ID: 2}}
	next := func() *SubscriberDropError {
		t.Helper()
		select {
		case e := <-reports:
			return e
		case <-time.After(10 * time.Second):
			require.FailNow(t, "no report")
			return nil
		}
	}

	d.add(a) // t=0: at once
	assert.Equal(t, uint64(1), next().Count)
	clk.Step(500 * time.Millisecond)
	d.add(b) // t=0.5: b's first, at once
	assert.Equal(t, b.sub.ID, next().Subscriber.ID)
	for range 3 {
		d.add(a)
		d.add(b)
	}
	assert.Empty(t, reports, "the rest wait for their second")

	clk.Step(500 * time.Millisecond) // t=1: a's second
	e := next()
	assert.Equal(t, a.sub.ID, e.Subscriber.ID)
	assert.Equal(t, uint64(3), e.Count)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, clk.BlockUntil(ctx, 1), "the tick re-armed for b")
	clk.Step(500 * time.Millisecond) // t=1.5: b's second
	e = next()
	assert.Equal(t, b.sub.ID, e.Subscriber.ID)
	assert.Equal(t, uint64(3), e.Count)
}
