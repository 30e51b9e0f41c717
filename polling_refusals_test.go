package tether_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/polling"
)

// TestAMessageTheConnCannotCarryIsDroppedNotPossiblyLost: a polling
// transport without a send URL refuses every Write before anything goes
// out (polling.ErrSendNotConfigured, a transport.ErrUnsupported). The
// client reported such a message as possibly lost ("written, never
// confirmed"), from Send and to OnDrop, and rpc saw a request both Unsent
// and possibly lost (outside review, 10 of 10). Now Send returns the
// refusal, a queued message is dropped with it as the reason, nothing is
// counted possibly lost, and the connection stays open.
func TestAMessageTheConnCannotCarryIsDroppedNotPossiblyLost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent) // every poll: nothing yet
	}))
	t.Cleanup(srv.Close)
	tr, err := polling.New(polling.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	drops := make(chan tether.Drop, 4)
	c := newClient[string](t, srv.URL, tether.WithTransport(tr), tether.WithAutoConnect(false),
		tether.WithoutHeartbeat(), tether.OnDrop(func(d tether.Drop) { drops <- d }))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	require.NoError(t, c.Send(ctx, "queued while idle"), "accepted into the buffer")
	require.NoError(t, c.Connect(ctx))
	d := recv(t, drops)
	require.ErrorIs(t, d.Reason, polling.ErrSendNotConfigured)
	require.NotErrorIs(t, d.Reason, tether.ErrPossiblyLost, "nothing was written")

	err = c.Send(ctx, "while open")
	require.ErrorIs(t, err, transport.ErrUnsupported)
	require.ErrorIs(t, err, polling.ErrSendNotConfigured)
	require.NotErrorIs(t, err, tether.ErrPossiblyLost, "nothing was written")
	assert.Equal(t, fsm.Open, c.State(), "the connection stays up")
	assert.Zero(t, c.Stats().PossiblyLost)
}
