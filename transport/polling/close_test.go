package polling_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/polling"
)

func TestCloseUnblocksRead(t *testing.T) {
	ts := newTestServer(t)
	ts.script(answer(`["unread"]`))
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc), ts)
	assert.Equal(t, text(`"unread"`), read(t, c))
	pending := readAsync(c)
	waitTimer(t, fc)

	require.NoError(t, c.Close(transport.StatusGoingAway, "bye"))
	res := recv(t, pending)
	ce := requireClose(t, res.err, transport.StatusGoingAway, false)
	assert.Equal(t, "bye", ce.Reason)
	recv(t, c.Done())
	assert.Equal(t, res.err, c.Err())
	assert.Zero(t, fc.Waiters(), "the poller stopped")

	require.NoError(t, c.Close(transport.StatusInternalError, "again"), "idempotent")
	requireClose(t, c.Err(), transport.StatusGoingAway, false)
	_, err := c.Read()
	requireClose(t, err, transport.StatusGoingAway, false)
}

// TestCloseKeepsWhatWasFetched: messages fetched before Close are still
// read after it, then the close: a Disconnect loses none, and a client
// that closed reports them. (They used to be thrown away unreported.)
func TestCloseKeepsWhatWasFetched(t *testing.T) {
	ts := newTestServer(t)
	ts.script(answer(`[1,2]`))
	c := dial(t, newTransport(t, ts, tethertest.NewFakeClock(time.Time{})), ts)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	assert.Equal(t, text(`1`), read(t, c))
	assert.Equal(t, text(`2`), read(t, c))
	_, err := c.Read()
	requireClose(t, err, transport.StatusNormalClosure, false)
}

func TestCloseAbortsPollInFlight(t *testing.T) {
	ts := newTestServer(t)
	entered := make(chan struct{}, 1)
	left := make(chan struct{}, 1)
	ts.setHandler(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Prefer") == "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		entered <- struct{}{}
		<-r.Context().Done()
		left <- struct{}{}
	})
	c := dial(t, newTransport(t, ts, tethertest.NewFakeClock(time.Time{}), polling.WithLongPoll(time.Hour)), ts)
	recv(t, entered)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	recv(t, left)
}

func TestCloseWithUnsendableCodeAborts(t *testing.T) {
	ts := newTestServer(t)
	c := dial(t, newTransport(t, ts, tethertest.NewFakeClock(time.Time{})), ts)
	require.NoError(t, c.Close(transport.StatusAbnormalClosure, ""))
	requireClose(t, c.Err(), transport.StatusAbnormalClosure, false)
}

func TestCloseFromManyGoroutines(t *testing.T) {
	ts := newTestServer(t)
	c := dial(t, newTransport(t, ts, tethertest.NewFakeClock(time.Time{})), ts)
	done := make(chan error, 8)
	for range 8 {
		go func() { done <- c.Close(transport.StatusNormalClosure, "") }()
	}
	for range 8 {
		assert.NoError(t, recv(t, done))
	}
	requireClose(t, c.Err(), transport.StatusNormalClosure, false)
}
