package inspect_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/inspect"
	"github.com/tether-go/tether/transport"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// TestPageIsSelfContained: the page and its assets come from the handler,
// under a policy that forbids every other origin, and name no other origin.
func TestPageIsSelfContained(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/inspect", inspect.New(inspect.WithTitle("<my> inspector"))))
	defer srv.Close()
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|import\s*\(|fetch\(`)
	for path, ctype := range map[string]string{
		"/inspect/":            "text/html",
		"/inspect/index.html":  "text/html",
		"/inspect/app.js":      "text/javascript",
		"/inspect/style.css":   "text/css",
		"/inspect/diagram.svg": "image/svg+xml",
	} {
		resp, body := get(t, srv.URL+path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), ctype, path)
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'", path)
		assert.NotRegexp(t, external, body, path)
	}
	_, index := get(t, srv.URL+"/inspect/")
	assert.Contains(t, index, "<title>&lt;my&gt; inspector</title>", "the title is escaped")
	assert.NotContains(t, index, "<script>", "no inline script: the policy would refuse it")

	resp, _ := get(t, srv.URL+"/inspect/nothing-here")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err := http.Post(srv.URL+"/inspect/events", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// TestDiagramIsTheTable: every state and every transition of the table is
// on the diagram, each where the page can find it.
func TestDiagramIsTheTable(t *testing.T) {
	svg := inspect.Diagram()
	assert.True(t, strings.HasPrefix(svg, "<svg "))
	for _, s := range fsm.States() {
		assert.Contains(t, svg, `data-state="`+s.String()+`"`)
	}
	for _, r := range fsm.Table() {
		assert.Regexp(t, `data-from="`+r.From.String()+`" data-to="`+r.To.String()+`" data-events="[^"]*\b`+r.Event.String()+`\b`, svg)
	}
	assert.Equal(t, svg, inspect.Diagram(), "the same on every call")
}

// authenticating is the stage of the clients that have one.
var authenticating = fsm.DefineStage("Authenticating")

// TestDiagramOfAClientWithAStage: a client with a stage gets a diagram of
// its own table, the stage and its edges on it; a client without stages
// gets the plain one, which clients share.
func TestDiagramOfAClientWithAStage(t *testing.T) {
	r := newRig(t)
	staged := r.client(tether.WithAutoConnect(false),
		tether.WithStage(authenticating, func(context.Context, *tether.Stage) error { return nil }))
	in := inspect.New()
	in.Add("plain", r.client(tether.WithAutoConnect(false)))
	in.Add("staged", staged)
	in.Add("plain too", r.client(tether.WithAutoConnect(false)))
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)

	_, body := get(t, srv.URL+"/snapshot.json")
	var snap inspect.Snapshot
	require.NoError(t, json.Unmarshal([]byte(body), &snap))
	require.Len(t, snap.Clients, 3)
	require.Len(t, snap.Diagrams, 2, "one diagram per distinct table")
	plain, own := snap.Clients[0].Diagram, snap.Clients[1].Diagram
	assert.Equal(t, plain, snap.Clients[2].Diagram, "clients without stages share the plain diagram")
	assert.NotEqual(t, plain, own)
	assert.Equal(t, inspect.Diagram(), snap.Diagrams[plain])
	assert.NotContains(t, snap.Diagrams[plain], "Authenticating")

	svg := snap.Diagrams[own]
	want, err := inspect.DiagramOf(staged.Lifecycle())
	require.NoError(t, err)
	assert.Equal(t, want, svg)
	assert.Contains(t, svg, `<g class="state stage" data-state="Authenticating">`)
	assert.Contains(t, svg, `data-from="Connecting" data-to="Authenticating" data-events="dialed"`)
	assert.Contains(t, svg, `data-from="Authenticating" data-to="Open" data-events="stage_done"`)
	assert.Contains(t, svg, `data-from="Authenticating" data-to="Waiting" data-events="stage_failed dropped heartbeat_timeout"`)
	assert.NotContains(t, svg, `data-from="Connecting" data-to="Open"`, "dialed leads to the stage")
	for _, r := range staged.Lifecycle().Rules {
		assert.Regexp(t, `data-from="`+r.From.String()+`" data-to="`+r.To.String()+`" data-events="[^"]*\b`+r.Event.String()+`\b`, svg)
	}
	// The row: the stage between Connecting and Open.
	order := regexp.MustCompile(`data-state="(\w+)"`).FindAllStringSubmatch(svg, -1)
	var states []string
	for _, m := range order {
		states = append(states, m[1])
	}
	assert.Equal(t, []string{"Idle", "Connecting", "Authenticating", "Open", "Closing", "Disconnecting", "Waiting", "Closed"}, states)

	// diagram.svg serves the plain one, or a client's own.
	_, body = get(t, srv.URL+"/diagram.svg")
	assert.Equal(t, inspect.Diagram(), body)
	_, body = get(t, srv.URL+"/diagram.svg?client="+strconv.Itoa(snap.Clients[1].ID))
	assert.Equal(t, svg, body)
	resp, _ := get(t, srv.URL+"/diagram.svg?client=99")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// A page open when a client with another table is added gets its
	// diagram first, then the client.
	p := openPage(t, srv.URL+"/events")
	var hello inspect.Snapshot
	p.next("hello", &hello)
	assert.Len(t, hello.Diagrams, 2)
	resubscribing := fsm.DefineStage("Resubscribing")
	two := r.client(tether.WithAutoConnect(false),
		tether.WithStage(authenticating, func(context.Context, *tether.Stage) error { return nil }),
		tether.WithStage(resubscribing, func(context.Context, *tether.Stage) error { return nil }))
	in.Add("two stages", two)
	var d inspect.DiagramView
	p.next("diagram", &d)
	assert.Contains(t, d.SVG, `data-from="Authenticating" data-to="Resubscribing" data-events="stage_done"`)
	assert.Contains(t, d.SVG, `data-from="Resubscribing" data-to="Open" data-events="stage_done"`)
	var added inspect.ClientView
	p.next("client", &added)
	assert.Equal(t, d.ID, added.Diagram)
}

// TestDiagramOfIsCachedAndChecked: the same table draws the same diagram,
// the plain lifecycle is Diagram, and a table that is not valid is refused.
func TestDiagramOfIsCachedAndChecked(t *testing.T) {
	a, err := inspect.DiagramOf(fsm.LifecycleWith(authenticating))
	require.NoError(t, err)
	b, err := inspect.DiagramOf(fsm.LifecycleWith(authenticating))
	require.NoError(t, err)
	assert.Equal(t, a, b)
	plain, err := inspect.DiagramOf(fsm.LifecycleWith())
	require.NoError(t, err)
	assert.Equal(t, inspect.Diagram(), plain)

	noStates := fsm.LifecycleWith(authenticating)
	noStates.States = nil // derived from the rules, as fsm does
	c, err := inspect.DiagramOf(noStates)
	require.NoError(t, err)
	assert.Contains(t, c, `data-state="Authenticating"`)

	bad := fsm.LifecycleWith(authenticating, authenticating)
	_, err = inspect.DiagramOf(bad)
	require.ErrorIs(t, err, fsm.ErrInvalidDef)
}

// TestPageFollowsAClient: the page gets the client's story so far when it
// connects, then every transition as it happens, the retry scheduled while
// the client waits, and the counters as they move.
func TestPageFollowsAClient(t *testing.T) {
	r := newRig(t)
	c := r.client()
	sc := r.accept()
	waitState(t, c, fsm.Open)

	in := inspect.New(inspect.WithInterval(10 * time.Millisecond))
	in.Add("feed", c)
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close) // after the page closes
	p := openPage(t, srv.URL+"/events")

	var hello inspect.Snapshot
	p.next("hello", &hello)
	require.Len(t, hello.Clients, 1)
	cv := hello.Clients[0]
	assert.Equal(t, "feed", cv.Name)
	assert.Equal(t, "Open", cv.Stats.State)
	require.NotEmpty(t, cv.Trace)
	assert.Equal(t, "Open", cv.Trace[len(cv.Trace)-1].To)
	assert.Equal(t, map[string]string{cv.Diagram: inspect.Diagram()}, hello.Diagrams, "the plain lifecycle")

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`"hello"`)))
	until(p, "stats", func(v []inspect.StatsView) bool { return len(v) == 1 && v[0].MessagesIn == 1 && v[0].BytesIn == 7 })

	sc.Drop()
	tr := until(p, "transition", func(v inspect.TransitionView) bool { return v.To == "Waiting" })
	assert.Equal(t, "Open", tr.From)
	assert.Equal(t, "dropped", tr.Event)
	assert.Equal(t, cv.ID, tr.Client)
	st := until(p, "stats", func(v []inspect.StatsView) bool { return v[0].NextRetry == 1 })
	assert.Equal(t, "Waiting", st[0].State)
	assert.InDelta(t, 1000, st[0].NextRetryMillis, 0.001, "the first backoff")
	assert.Equal(t, r.clk.Now().Add(time.Second), st[0].NextRetryAt)

	r.retry(c)
	tr = until(p, "transition", func(v inspect.TransitionView) bool { return v.Event == "retry" })
	assert.Equal(t, 1, tr.Attempt)
	r.accept()
	until(p, "transition", func(v inspect.TransitionView) bool { return v.To == "Open" })
	st = until(p, "stats", func(v []inspect.StatsView) bool { return v[0].Reconnects == 1 })
	assert.Zero(t, st[0].NextRetry, "no retry ahead once connected")
	assert.Equal(t, "Open", st[0].State)
}

// TestSeveralClientsOnOnePage: clients added and removed while a page is
// open show up and go away on it.
func TestSeveralClientsOnOnePage(t *testing.T) {
	r := newRig(t)
	in := inspect.New()
	in.Add("first", r.client(tether.WithAutoConnect(false)))
	in.Add("", r.client(tether.WithAutoConnect(false)))
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close) // after the page closes
	p := openPage(t, srv.URL+"/events")
	var hello inspect.Snapshot
	p.next("hello", &hello)
	require.Len(t, hello.Clients, 2)
	assert.Equal(t, "first", hello.Clients[0].Name)
	assert.Equal(t, "client 2", hello.Clients[1].Name, "an empty name is numbered")
	assert.Equal(t, "Idle", hello.Clients[1].Stats.State)

	remove := in.Add("third", r.client(tether.WithAutoConnect(false)))
	var added inspect.ClientView
	p.next("client", &added)
	assert.Equal(t, "third", added.Name)
	remove()
	remove() // idempotent
	var removed struct{ ID int }
	p.next("removed", &removed)
	assert.Equal(t, added.ID, removed.ID)

	_, body := get(t, srv.URL+"/snapshot.json")
	var snap inspect.Snapshot
	require.NoError(t, json.Unmarshal([]byte(body), &snap))
	assert.Len(t, snap.Clients, 2)
}

// TestNamesAreRedacted: a URL given as a client's name never shows its
// secrets, neither on the page nor in the snapshot.
func TestNamesAreRedacted(t *testing.T) {
	r := newRig(t)
	in := inspect.New()
	in.Add("feed wss://alice:hunter2@feed.example/live?token=s3cret&x=1", r.client(tether.WithAutoConnect(false)))
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close) // after the page closes
	_, body := get(t, srv.URL+"/snapshot.json")
	assert.NotContains(t, body, "hunter2")
	assert.NotContains(t, body, "alice")
	assert.NotContains(t, body, "s3cret")
	assert.Contains(t, body, "feed wss://")
	assert.Contains(t, body, transport.Redacted)
	p := openPage(t, srv.URL+"/events")
	var hello inspect.Snapshot
	p.next("hello", &hello)
	assert.Equal(t, transport.RedactURL("wss://alice:hunter2@feed.example/live?token=s3cret&x=1"),
		strings.TrimPrefix(hello.Clients[0].Name, "feed "))
}

// echoing is a transport whose Dial fails with an error that quotes the
// URL it was given, credentials included, as a careless custom transport's
// might.
type echoing struct{}

func (echoing) Name() string { return "echoing" }

func (echoing) Dial(_ context.Context, target transport.Target) (transport.Conn, error) {
	return nil, fmt.Errorf("custom dial of %s failed", target.URL)
}

// TestCausesAreRedacted: a transition's cause that quotes the client's URL
// (a custom transport's error) showed the token on the page and in the
// snapshot, though TraceMermaid redacted it (an outside review).
func TestCausesAreRedacted(t *testing.T) {
	c, err := tether.New[string]("ws://127.0.0.1:1/feed?token=S3CRETforeign", tether.WithTransport(echoing{}),
		tether.WithoutReconnect(), tether.WithAutoConnect(false))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.Error(t, c.Connect(ctx))
	require.NoError(t, c.Close(ctx))
	in := inspect.New()
	in.Add("feed", c)
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	_, body := get(t, srv.URL+"/snapshot.json")
	assert.Contains(t, body, "custom dial of ws://127.0.0.1:1/feed?token="+transport.Redacted, "the cause is shown, redacted")
	assert.NotContains(t, body, "S3CRET")
}

// TestNothingRunsWhileNobodyWatches: adding a client starts no goroutine
// and subscribes to nothing; a page that goes away leaves nothing behind.
func TestNothingRunsWhileNobodyWatches(t *testing.T) {
	r := newRig(t)
	c := r.client(tether.WithAutoConnect(false))
	in := inspect.New(inspect.WithInterval(10 * time.Millisecond))
	before := goleak.IgnoreCurrent()
	remove := in.Add("idle", c)
	require.NoError(t, goleak.Find(before), "Add starts no goroutine")
	srv := httptest.NewServer(in)
	p := openPage(t, srv.URL+"/events")
	var hello inspect.Snapshot
	p.next("hello", &hello)
	p.close()
	srv.Close() // waits for the page's handler to return
	require.NoError(t, goleak.Find(before), "a page that went away leaves no goroutine")
	remove()
}

// stalledWriter is a page that stopped reading: every write blocks until
// the test lets it fail.
type stalledWriter struct {
	header  http.Header
	once    sync.Once
	blocked chan struct{} // closed at the first write
	release chan struct{}
}

var errPageGone = errors.New("page gone")

func (w *stalledWriter) Header() http.Header { return w.header }
func (w *stalledWriter) WriteHeader(int)     {}
func (w *stalledWriter) Write([]byte) (int, error) {
	w.once.Do(func() { close(w.blocked) })
	<-w.release
	return 0, errPageGone
}

// TestStalledPageNeverSlowsTheClient: a page whose writes never return
// does not hold the client up: it goes through many more transitions than
// the page's queues hold, and the transitions the page lost are not the
// client's drops (TestSlowPageShowsWhatItMissed).
func TestStalledPageNeverSlowsTheClient(t *testing.T) {
	r := newRig(t)
	c := r.client()
	sc := r.accept()
	waitState(t, c, fsm.Open)
	in := inspect.New(inspect.WithBuffer(2))
	in.Add("feed", c)

	w := &stalledWriter{header: http.Header{}, blocked: make(chan struct{}), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil)
	served := make(chan struct{})
	go func() {
		defer close(served)
		in.ServeHTTP(w, req)
	}()
	select {
	case <-w.blocked:
	case <-time.After(deadline):
		require.FailNow(t, "the page was never written to")
	}

	// 30 drops and reconnects: 120 transitions, more than the page's
	// queue (64) and its subscription (2) can hold.
	for range 30 {
		sc.Drop()
		waitState(t, c, fsm.Waiting)
		r.retry(c)
		sc = r.accept()
		waitState(t, c, fsm.Open)
	}
	assert.Equal(t, uint64(30), c.Stats().Reconnects)
	assert.Zero(t, c.Stats().SubscriberDrops, "what the page lost is not the client's drop")

	close(w.release)
	select {
	case <-served:
	case <-time.After(deadline):
		require.FailNow(t, "the handler did not return once its write failed")
	}
}

// TestStalledPageIsDisconnected: a real page that stops reading is
// disconnected once a write has waited WithWriteTimeout, and its handler
// returns (the browser would reconnect and start from a fresh snapshot).
func TestStalledPageIsDisconnected(t *testing.T) {
	r := newRig(t)
	in := inspect.New(inspect.WithInterval(10*time.Millisecond), inspect.WithWriteTimeout(100*time.Millisecond))
	for range 100 { // about 30 KB of counters every 10 ms, to fill the socket buffers soon
		in.Add("", r.client(tether.WithAutoConnect(false)))
	}
	returned := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		in.ServeHTTP(w, req)
		returned <- struct{}{}
	}))
	t.Cleanup(srv.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(4096))
	_, err = io.WriteString(conn, "GET /events HTTP/1.1\r\nHost: inspector\r\n\r\n")
	require.NoError(t, err)
	// The page reads nothing from now on.
	select {
	case <-returned:
	case <-time.After(time.Minute):
		require.FailNow(t, "the handler is still writing to a page that stopped reading")
	}
}

// TestEventStreamAsksTheBrowserToComeBack: the stream tells the browser to
// reconnect a second after it breaks.
func TestEventStreamAsksTheBrowserToComeBack(t *testing.T) {
	in := inspect.New()
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "retry: 1000\n", line)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
}

// slowWriter is a page that stops reading after the first event until the
// test releases it, then reads everything: each write, on written.
type slowWriter struct {
	header  http.Header
	once    sync.Once
	blocked chan struct{} // closed at the first write
	release chan struct{}
	written chan string
}

func (w *slowWriter) Header() http.Header { return w.header }
func (w *slowWriter) WriteHeader(int)     {}
func (w *slowWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.blocked) })
	<-w.release
	w.written <- string(b)
	return len(b), nil
}

// TestSlowPageShowsWhatItMissed: a page that falls behind loses the
// oldest of a client's transitions, and sees how many by their Seq; the
// client does not count them as its drops nor report them on its error
// stream (OnError), where they would be noise of someone's browser tab.
func TestSlowPageShowsWhatItMissed(t *testing.T) {
	r := newRig(t)
	var drops []error
	var mu sync.Mutex
	c := r.client(tether.OnError(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := errors.AsType[*tether.SubscriberDropError](err); ok {
			drops = append(drops, err)
		}
	}))
	sc := r.accept()
	waitState(t, c, fsm.Open)
	in := inspect.New(inspect.WithBuffer(2), inspect.WithInterval(time.Hour))
	in.Add("feed", c)

	w := &slowWriter{header: http.Header{}, blocked: make(chan struct{}), release: make(chan struct{}),
		written: make(chan string, 1024)}
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil)
	served := make(chan struct{})
	go func() {
		defer close(served)
		in.ServeHTTP(w, req)
	}()
	defer func() {
		cancel()
		<-served
	}()
	select {
	case <-w.blocked:
	case <-time.After(deadline):
		require.FailNow(t, "the page was never written to")
	}
	for range 30 { // 120 transitions: more than the page's queues hold
		sc.Drop()
		waitState(t, c, fsm.Waiting)
		r.retry(c)
		sc = r.accept()
		waitState(t, c, fsm.Open)
	}
	trace := c.Trace()
	last := trace[len(trace)-1].Seq
	close(w.release)

	var seqs []uint64
	timeout := time.After(deadline)
	for len(seqs) == 0 || seqs[len(seqs)-1] < last {
		select {
		case s := <-w.written:
			for line := range strings.SplitSeq(s, "\n") {
				if data, ok := strings.CutPrefix(line, "data: "); ok && strings.Contains(s, "event: transition") {
					var ev inspect.TransitionEvent
					require.NoError(t, json.Unmarshal([]byte(data), &ev))
					seqs = append(seqs, ev.Seq)
				}
			}
		case <-timeout:
			require.FailNow(t, "the page never got the last transition", "seqs %v, last %d", seqs, last)
		}
	}
	require.True(t, slices.IsSorted(seqs), "in order: %v", seqs)
	assert.Less(t, len(seqs), int(last), "the page missed some: %v", seqs)
	assert.Zero(t, c.Stats().SubscriberDrops, "not the client's drops")
	mu.Lock()
	assert.Empty(t, drops, "nor reported as the client's")
	mu.Unlock()
}
