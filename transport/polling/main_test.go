package polling_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/polling"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// generous bounds a wait that must succeed; it never elapses in a passing run.
const generous = 10 * time.Second

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), generous)
	t.Cleanup(cancel)
	return ctx
}

// recorded is one request as the server saw it.
type recorded struct {
	Method   string
	Host     string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// reply is one scripted answer.
type reply struct {
	status int
	header http.Header
	body   string
}

// testServer records every request and answers from a script: the queued
// replies in order, then the default reply. A custom handler, when set,
// answers instead.
type testServer struct {
	*httptest.Server
	reqs chan recorded

	mu      sync.Mutex
	queue   []reply
	def     reply
	handler http.HandlerFunc
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{reqs: make(chan recorded, 1024), def: reply{status: http.StatusNoContent}}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts.reqs <- recorded{Method: r.Method, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	ts.mu.Lock()
	h := ts.handler
	rep := ts.def
	if len(ts.queue) > 0 {
		rep, ts.queue = ts.queue[0], ts.queue[1:]
		h = nil
	}
	ts.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	for k, vs := range rep.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

// script queues replies for the next requests.
func (ts *testServer) script(rs ...reply) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.queue = append(ts.queue, rs...)
}

// setDefault sets the reply once the queue is empty.
func (ts *testServer) setDefault(r reply) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.def = r
}

// setHandler answers with h once the queue is empty.
func (ts *testServer) setHandler(h http.HandlerFunc) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.handler = h
}

// next returns the next request the server saw.
func (ts *testServer) next(t *testing.T) recorded {
	t.Helper()
	return recv(t, ts.reqs)
}

// noRequest asserts that the server has seen no request it was not asked
// about yet.
func (ts *testServer) noRequest(t *testing.T) {
	t.Helper()
	select {
	case r := <-ts.reqs:
		require.FailNow(t, "unexpected request", "%s %s", r.Method, r.Path)
	default:
	}
}

func answer(body string, kv ...string) reply {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return reply{status: http.StatusOK, header: h, body: body}
}

func refuse(code int, kv ...string) reply {
	r := answer("", kv...)
	r.status = code
	return r
}

// newTransport builds a transport that uses the server's client and fc.
func newTransport(t *testing.T, ts *testServer, fc *tethertest.FakeClock, opts ...polling.Option) *polling.Transport {
	t.Helper()
	all := append([]polling.Option{polling.WithHTTPClient(ts.Client()), polling.WithClock(fc)}, opts...)
	tr, err := polling.New(all...)
	require.NoError(t, err)
	return tr
}

// dial dials the server's root and closes the Conn when the test ends.
func dial(t *testing.T, tr *polling.Transport, ts *testServer, target ...transport.Target) transport.Conn {
	t.Helper()
	tg := transport.Target{URL: ts.URL + "/feed"}
	if len(target) > 0 {
		tg = target[0]
	}
	c, err := tr.Dial(testCtx(t), tg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(transport.StatusNormalClosure, "") })
	return c
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(generous):
		require.FailNow(t, "timed out waiting")
		var zero T
		return zero
	}
}

type readResult struct {
	msg transport.Message
	err error
}

func readAsync(c transport.Conn) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		m, err := transport.ReadOwned(c)
		ch <- readResult{m, err}
	}()
	return ch
}

// read reads one message, failing the test if none comes in time.
func read(t *testing.T, c transport.Conn) transport.Message {
	t.Helper()
	r := recv(t, readAsync(c))
	require.NoError(t, r.err)
	return r.msg
}

// readErr reads until the Conn ends and returns its error.
func readErr(t *testing.T, c transport.Conn) error {
	t.Helper()
	r := recv(t, readAsync(c))
	require.Error(t, r.err)
	return r.err
}

func text(s string) transport.Message {
	return transport.Message{Type: transport.Text, Payload: []byte(s)}
}

// waitTimer waits until the poller has armed its wait and returns it.
func waitTimer(t *testing.T, fc *tethertest.FakeClock) time.Duration {
	t.Helper()
	require.NoError(t, fc.BlockUntil(testCtx(t), 1))
	p := fc.Pending()
	require.Len(t, p, 1)
	return p[0]
}

func requireClose(t *testing.T, err error, code transport.StatusCode, remote bool) *transport.CloseError {
	t.Helper()
	ce, ok := errors.AsType[*transport.CloseError](err)
	require.True(t, ok, "want *transport.CloseError, got %v", err)
	require.Equal(t, code, ce.Code)
	require.Equal(t, remote, ce.Remote)
	return ce
}
