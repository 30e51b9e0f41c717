package tethertest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// deadline bounds every wait. Generous: the tests wait for events, they do
// not measure time.
const deadline = 10 * time.Second

func dial(t *testing.T, url string, protos ...string) transport.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	c, err := newTransport(t).Dial(ctx, transport.Target{URL: url, Subprotocols: protos})
	require.NoError(t, err)
	return c
}

func newTransport(t *testing.T) *websocket.Transport {
	t.Helper()
	tr, err := websocket.New()
	require.NoError(t, err)
	return tr
}

func TestWSServerScript(t *testing.T) {
	srv := tethertest.NewWSServer(tethertest.WithServerSubprotocols("v1"))
	defer srv.Close()
	c := dial(t, srv.URL, "v1")
	defer c.Close(transport.StatusNormalClosure, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	assert.Equal(t, "v1", sc.Subprotocol)

	require.NoError(t, sc.SendFragmented(transport.Text, []byte("hello world"), 3))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "hello world", string(m.Payload))

	require.NoError(t, c.Write(ctx, transport.Binary, []byte{1, 2, 3}))
	got, err := sc.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, transport.Message{Type: transport.Binary, Payload: []byte{1, 2, 3}}, got)

	require.NoError(t, c.Ping(ctx, []byte("p")))
	m, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Pong, m.Type, "the server answers pings")

	require.NoError(t, sc.Close(4001, "bye"))
	_, err = c.Read()
	var ce *transport.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, transport.StatusCode(4001), ce.Code)
	assert.Equal(t, "bye", ce.Reason)
}

func TestWSServerDropAndRefuse(t *testing.T) {
	srv := tethertest.NewWSServer()
	defer srv.Close()
	c := dial(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	sc.Drop()
	_, err = c.Read()
	code, ok := transport.CloseCode(err)
	require.True(t, ok)
	assert.Equal(t, transport.StatusAbnormalClosure, code)

	srv.Refuse(http.StatusForbidden)
	tr, err := websocket.New()
	require.NoError(t, err)
	_, err = tr.Dial(ctx, transport.Target{URL: srv.URL})
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusForbidden, he.StatusCode)
}

func TestWSServerServesHTTPBeside(t *testing.T) {
	srv := tethertest.NewWSServer()
	defer srv.Close()
	srv.HandleHTTP(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("rest")) }))
	resp, err := http.Get("http" + srv.URL[len("ws"):] + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
