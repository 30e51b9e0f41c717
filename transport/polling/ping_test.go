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

func pong(p string) transport.Message {
	return transport.Message{Type: transport.Pong, Payload: []byte(p)}
}

func TestPingPollsAtOnceAndPongs(t *testing.T) {
	ts := newTestServer(t)
	ts.script(refuse(http.StatusNoContent), answer(`["data"]`))
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc, polling.WithInterval(time.Hour)), ts)
	ts.next(t)
	waitTimer(t, fc)

	require.NoError(t, c.Ping(testCtx(t), []byte("hb-1")))
	assert.Equal(t, text(`"data"`), read(t, c), "the data of the answer first")
	assert.Equal(t, pong("hb-1"), read(t, c), "then the pong, without the hour passing")
	ts.next(t)
	assert.Equal(t, time.Hour, waitTimer(t, fc), "back to the interval")
	ts.noRequest(t)
}

func TestPongOnNotModified(t *testing.T) {
	ts := newTestServer(t)
	ts.script(answer(`[1]`, "ETag", `"a"`))
	ts.setDefault(refuse(http.StatusNotModified))
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc), ts)
	assert.Equal(t, text("1"), read(t, c))
	waitTimer(t, fc)
	require.NoError(t, c.Ping(testCtx(t), nil))
	assert.Equal(t, transport.Pong, read(t, c).Type)
	ts.next(t)
	assert.Equal(t, `"a"`, ts.next(t).Header.Get("If-None-Match"))
}

func TestNoPongWithoutPing(t *testing.T) {
	ts := newTestServer(t)
	ts.script(refuse(http.StatusNoContent), refuse(http.StatusNoContent), answer(`["only data"]`))
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc), ts)
	fc.Step(waitTimer(t, fc))
	fc.Step(waitTimer(t, fc))
	assert.Equal(t, text(`"only data"`), read(t, c), "empty answers made no pong")
}

func TestPingWaitsOutBackoff(t *testing.T) {
	ts := newTestServer(t)
	ts.script(refuse(http.StatusNoContent), refuse(http.StatusServiceUnavailable, "Retry-After", "5"), refuse(http.StatusServiceUnavailable, "Retry-After", "5"))
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc), ts)
	ts.next(t)
	fc.Step(waitTimer(t, fc))
	ts.next(t)
	assert.Equal(t, 5*time.Second, waitTimer(t, fc))

	require.NoError(t, c.Ping(testCtx(t), []byte("p")))
	ts.noRequest(t) // the Retry-After holds
	fc.Step(5 * time.Second)
	ts.next(t) // fails again: no pong yet
	assert.Equal(t, 5*time.Second, waitTimer(t, fc))
	fc.Step(5 * time.Second)
	assert.Equal(t, pong("p"), read(t, c), "the pong comes with the first successful poll")
}

func TestPingErrors(t *testing.T) {
	ts := newTestServer(t)
	c := dial(t, newTransport(t, ts, tethertest.NewFakeClock(time.Time{})), ts)
	require.ErrorIs(t, c.Ping(testCtx(t), make([]byte, 126)), transport.ErrProtocol)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	require.ErrorIs(t, c.Ping(testCtx(t), nil), transport.ErrClosed)
}
