package tether_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport/fallback"
	"github.com/tether-go/tether/transport/polling"
	"github.com/tether-go/tether/transport/websocket"
)

// TestNotFoundFallsBackUnderTheDefaultPolicy: a server with no WebSocket
// endpoint answers the upgrade with 404 and serves HTTP polling. The
// fallback transport counted 404 toward its switch (3 in a row), while the
// client's default policy gives up on the first 404 (terminal), so the
// documented fallback never came (outside review, 5 of 5). 404 now
// switches at once, as 403 does.
func TestNotFoundFallsBackUnderTheDefaultPolicy(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed/poll" {
			http.NotFound(w, r) // the WebSocket path too
			return
		}
		polls.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	ws, err := websocket.New(websocket.WithProxy(nil))
	require.NoError(t, err)
	poll, err := polling.New(polling.WithHTTPClient(srv.Client()), polling.WithPollPath("/feed/poll"))
	require.NoError(t, err)
	tr, err := fallback.New(ws, poll)
	require.NoError(t, err)

	c := newClient[string](t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/feed/ws",
		tether.WithTransport(tr), tether.WithAutoConnect(false))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx), "the default policy gave up on the WebSocket 404")
	assert.Equal(t, fsm.Open, c.State())
	assert.Equal(t, "polling", tr.Active())
	assert.Positive(t, polls.Load())
}
