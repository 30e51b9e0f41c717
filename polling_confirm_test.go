package tether_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport/polling"
)

// TestAcknowledgedPostsAreNotPossiblyLost: over HTTP polling each message
// is a POST, and a 2xx answer is the server's receipt. Messages the server
// acknowledged used to be reported as possibly lost when the connection
// ended (only pongs confirmed writes, and polling has none on its own):
// an application that resends what OnDrop reports sent them twice. The
// polling Conn now says what it acknowledged (transport.Confirmer).
func TestAcknowledgedPostsAreNotPossiblyLost(t *testing.T) {
	release := make(chan struct{})
	var got, polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			got.Add(1)
			w.WriteHeader(http.StatusNoContent)
		case polls.Add(1) == 1: // the dial's GET: nothing yet
			w.WriteHeader(http.StatusNoContent)
		default: // the long poll: answered when the test says, with a failure
			select {
			case <-release:
			case <-r.Context().Done():
			}
			http.Error(w, "gone", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	tr, err := polling.New(polling.WithPollPath("/poll"), polling.WithSendPath("/send"),
		polling.WithHTTPClient(srv.Client()), polling.WithMaxFailures(1)) // one failed poll ends it
	require.NoError(t, err)
	var possibly atomic.Int32
	c := newClient[string](t, srv.URL, tether.WithTransport(tr), tether.WithoutReconnect(), tether.WithoutHeartbeat(),
		tether.OnDrop(func(tether.Drop) { possibly.Add(1) }))
	waitState(t, c, fsm.Open)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	const n = 20
	for i := range n {
		require.NoError(t, c.SendText(ctx, numbered(i)))
	}
	require.Equal(t, int32(n), got.Load(), "each Send returned once its POST was answered")

	close(release) // the poll fails: the connection ends
	waitState(t, c, fsm.Closed)
	select {
	case <-c.Done(): // every OnDrop has run
	case <-ctx.Done():
		require.FailNow(t, "Done did not close")
	}
	assert.Zero(t, possibly.Load(), "acknowledged messages reported as dropped or possibly lost")
	assert.Zero(t, c.Stats().PossiblyLost)
}
