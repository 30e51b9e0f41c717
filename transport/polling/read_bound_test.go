package polling_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport/polling"
)

// TestAtMostTwoAnswersAreHeld: the poller fetches the next answer only
// while the reader works through the previous one, so a reader that falls
// behind holds at most two answers in memory (the package doc, and
// docs/fallback.md): the server never sees a poll more than two ahead of
// the Reads that finished. The reader here lets the poller run ahead as
// far as it goes before each Read.
func TestAtMostTwoAnswersAreHeld(t *testing.T) {
	ts := newTestServer(t)
	var polls, reads, ahead atomic.Int64
	arrived := make(chan int64, 1024)
	ts.setHandler(func(w http.ResponseWriter, r *http.Request) {
		n := polls.Add(1)
		if d := n - reads.Load(); d > ahead.Load() {
			ahead.Store(d)
		}
		arrived <- n
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`["m"]`))
	})
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc, polling.WithLongPoll(time.Second)), ts)
	const n = 30
	seen := int64(0)
	for k := int64(1); k <= n; k++ {
		for seen < k { // the poller has fetched as far as it may before this Read
			seen = recv(t, arrived)
		}
		m := read(t, c)
		require.Equal(t, `"m"`, string(m.Payload), "each element as JSON")
		reads.Add(1)
	}
	assert.LessOrEqual(t, ahead.Load(), int64(2), "polls ahead of the finished Reads")
}
