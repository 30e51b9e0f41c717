package fallback_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/fallback"
	"github.com/tether-go/tether/transport/memory"
	"github.com/tether-go/tether/transport/polling"
)

// The whole story with the real polling transport: a proxy refuses the
// WebSocket upgrade, the same target is polled over HTTP, the client's
// ping-frame heartbeat still gets pongs, and the client goes back to
// WebSocket when it returns.
func TestFallbackToPollingAndBack(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed/poll" || r.URL.Query().Get("token") != "t1" {
			http.NotFound(w, r)
			return
		}
		if polls.Add(1) == 1 {
			_, _ = io.WriteString(w, `[{"tick":1}]`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)

	ws, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	ws.SetDefault(memory.Refuse(http.StatusUpgradeRequired, nil, "no WebSocket here"))
	pollClock := tethertest.NewFakeClock(time.Time{})
	poll, err := polling.New(polling.WithHTTPClient(srv.Client()), polling.WithClock(pollClock), polling.WithPollPath("/feed/poll"))
	require.NoError(t, err)
	probeClock := tethertest.NewFakeClock(time.Time{})
	tr, err := fallback.New(named{ws.Transport(), "websocket"}, poll, fallback.WithClock(probeClock))
	require.NoError(t, err)

	target := transport.Target{URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/feed/ws?token=t1"}
	c, err := tr.Dial(testCtx(t), target)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(transport.StatusNormalClosure, "") })
	assert.Equal(t, "polling", transportName(c))
	assert.Equal(t, "polling", tr.Active())

	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, `{"tick":1}`, string(m.Payload))
	require.NoError(t, c.Ping(testCtx(t), []byte("hb")))
	m, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Pong, Payload: []byte("hb")}, m)

	ws.SetDefault(memory.Proceed())
	probeClock.Step(waitTimer(t, probeClock))
	requireUpgradeClose(t, readErr(t, c))
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	assert.Zero(t, pollClock.Waiters(), "the polling Conn stopped")

	back, err := tr.Dial(testCtx(t), target)
	require.NoError(t, err)
	t.Cleanup(func() { _ = back.Close(transport.StatusNormalClosure, "") })
	assert.Equal(t, "websocket", transportName(back))
}
