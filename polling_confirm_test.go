package tether_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport/polling"
)

// pollingPeer serves HTTP polling: post answers each POST; the dial's GET
// gets nothing, and every later poll waits until release is closed and
// then fails, which ends the connection (one failed poll ends it). It
// returns the URL to dial and the transport to reach it with.
func pollingPeer(t *testing.T, release <-chan struct{}, post http.HandlerFunc) (string, tether.Option) {
	t.Helper()
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			post(w, r)
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
		polling.WithHTTPClient(srv.Client()), polling.WithMaxFailures(1))
	require.NoError(t, err)
	return srv.URL, tether.WithTransport(tr)
}

// TestAcknowledgedPostsAreNotPossiblyLost: over HTTP polling each message
// is a POST, and a 2xx answer is the server's receipt. Messages the server
// acknowledged used to be reported as possibly lost when the connection
// ended (only pongs confirmed writes, and polling has none on its own):
// an application that resends what OnDrop reports sent them twice. The
// polling Conn now says what it acknowledged (transport.Confirmer).
func TestAcknowledgedPostsAreNotPossiblyLost(t *testing.T) {
	release := make(chan struct{})
	var got atomic.Int32
	url, tr := pollingPeer(t, release, func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	var possibly atomic.Int32
	c := newClient[string](t, url, tr, tether.WithoutReconnect(), tether.WithoutHeartbeat(),
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
	waitDone(t, c) // every OnDrop has run
	assert.Zero(t, possibly.Load(), "acknowledged messages reported as dropped or possibly lost")
	assert.Zero(t, c.Stats().PossiblyLost)
}

// TestRefusedQueuedPostIsReported: a message that waited in the buffer
// and whose POST the server refused was recorded by the flusher (it may
// have arrived) and then confirmed with the acknowledged ones around it:
// lost without a report (outside review: 1 message in 6 runs). And the
// flusher took the refusal for the connection's end while the Conn stayed
// up: the messages behind it waited, and Flush with them, until the
// connection ended. The refused message is now reported at once as
// possibly lost, and the rest go out.
func TestRefusedQueuedPostIsReported(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var posted []string
	url, tr := pollingPeer(t, release, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = append(posted, string(body))
		mu.Unlock()
		if string(body) == numbered(3) {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	var reported []tether.Drop
	c := newClient[string](t, url, tr, tether.WithoutReconnect(), tether.WithoutHeartbeat(),
		tether.WithAutoConnect(false), tether.OnDrop(func(d tether.Drop) {
			mu.Lock()
			reported = append(reported, d)
			mu.Unlock()
		}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for i := range 6 {
		require.NoError(t, c.SendText(ctx, numbered(i)), "queued while disconnected")
	}
	require.NoError(t, c.Connect(ctx))
	require.NoError(t, c.Flush(ctx), "the messages behind the refused one go out while the connection is up")
	require.NoError(t, c.SendText(ctx, numbered(6)), "written at once and acknowledged")
	mu.Lock()
	assert.Equal(t, []string{numbered(0), numbered(1), numbered(2), numbered(3), numbered(4), numbered(5), numbered(6)}, posted)
	mu.Unlock()

	close(release) // the poll fails: the connection ends
	waitState(t, c, fsm.Closed)
	waitDone(t, c)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, reported, 1, "the refused message, and no acknowledged one")
	assert.Equal(t, numbered(3), reported[0].Value)
	assert.ErrorIs(t, reported[0].Reason, tether.ErrPossiblyLost)
	var refused *polling.SendError
	assert.ErrorAs(t, reported[0].Reason, &refused, "with the server's answer")
}

// TestCloseDuringAQueuedPostReportsIt: Close aborted a buffered message's
// POST that the server had read, and the polling Conn said ErrClosed
// ("nothing sent"): the client reported it dropped as never sent, or sent
// it again on its next connection (outside review: 15 of 20 runs
// delivered it twice); and a Close counted as an answered close, which
// confirms everything. The Write now says the server may have it, only
// acknowledgements confirm, and the message is reported as possibly lost.
func TestCloseDuringAQueuedPostReportsIt(t *testing.T) {
	read := make(chan struct{})
	url, tr := pollingPeer(t, nil, func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		close(read) // the one message: read, never answered
		<-r.Context().Done()
	})
	reported := make(chan tether.Drop, 4)
	c := newClient[string](t, url, tr, tether.WithoutHeartbeat(),
		tether.WithAutoConnect(false), tether.OnDrop(func(d tether.Drop) { reported <- d }))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.SendText(ctx, "only"), "queued while disconnected")
	require.NoError(t, c.Connect(ctx))
	select {
	case <-read:
	case <-ctx.Done():
		require.FailNow(t, "the POST never reached the server")
	}
	require.NoError(t, c.Close(ctx))
	waitDone(t, c)
	require.Len(t, reported, 1)
	d := <-reported
	assert.Equal(t, "only", d.Value)
	assert.ErrorIs(t, d.Reason, tether.ErrPossiblyLost, "the server may have it")
}
