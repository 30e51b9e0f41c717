package browser

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/inspect"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

var screenshot = flag.String("screenshot", "", "save the page's screenshot to this `file` (default: in the test's temporary directory)")

// deadline bounds every wait in the browser: the test waits for what the
// page shows, it does not measure time.
const deadline = 20 * time.Second

// chromium finds the browser, or skips the test (fails it when
// TETHER_BROWSER=required).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TETHER_BROWSER") == "required" {
		require.FailNow(t, "no Chromium found (apt-get install chromium), and TETHER_BROWSER=required")
	}
	t.Skip("no Chromium found (apt-get install chromium); set TETHER_BROWSER=required to fail instead")
	return ""
}

// browser starts a headless Chromium with a fresh profile and nothing
// that reaches the network by itself, and returns its context and the
// function that closes it.
func browser(t *testing.T, ctx context.Context) (context.Context, func()) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1360, 1100),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	return bctx, func() {
		bcancel()
		acancel()
	}
}

// feed sends a reading every 20 ms on every connection, and hands each
// connection to the test.
func feed(conns chan<- *tethertest.WSConn) func(*tethertest.WSConn) {
	return func(c *tethertest.WSConn) {
		select {
		case conns <- c:
		default:
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for seq := 1; ; seq++ {
			select {
			case <-c.Done():
				return
			case <-tick.C:
			}
			if c.Send(transport.Text, fmt.Appendf(nil, `{"sensor":"cpu","value":%d}`, seq)) != nil {
				return
			}
		}
	}
}

// page reads what a person sees on a client's card, in one go.
type page struct {
	Badge      string   `json:"badge"`
	Current    string   `json:"current"`  // the highlighted state on the diagram
	LastEdge   string   `json:"lastEdge"` // the highlighted arc, "From>To"
	Next       string   `json:"next"`
	Ahead      []string `json:"ahead"` // the reconnect schedule after the next attempt, one line each
	AheadNote  string   `json:"aheadNote"`
	AheadStop  string   `json:"aheadStop"`
	Timeline   int      `json:"timeline"`
	Entries    string   `json:"entries"`
	MessagesIn int      `json:"messagesIn"`
	Reconnects int      `json:"reconnects"`
	RTT        string   `json:"rtt"`
	Bytes      string   `json:"bytes"` // bytes/s in · out
}

// The cards of the two clients, in the order they were added.
const (
	quotes = "#client-1"
	orders = "#client-2"
)

// readCard is the JavaScript that reads the card sel as a page.
func readCard(sel string) string {
	return `(() => {
  const card = document.querySelector(` + strconv.Quote(sel) + `);
  if (!card) return null;
  const q = (s) => card.querySelector(s);
  const edge = q("g.edge.last");
  return {
    badge: q(".badge").textContent,
    current: (q("g.state.current") || {dataset: {}}).dataset.state || "",
    lastEdge: edge ? edge.dataset.from + ">" + edge.dataset.to : "",
    next: q(".next").textContent,
    ahead: Array.from(card.querySelectorAll(".ahead li")).map(li => li.textContent),
    aheadNote: (q(".ahead .k") || {}).textContent || "",
    aheadStop: (q(".ahead .stop") || {}).textContent || "",
    timeline: card.querySelectorAll("ol.timeline li").length,
    entries: Array.from(card.querySelectorAll("ol.timeline li")).map(li => li.textContent).join("\n"),
    messagesIn: parseInt(q('[data-stat="messagesIn"] .v').textContent, 10),
    reconnects: parseInt(q('[data-stat="reconnects"] .v').textContent, 10),
    rtt: q('[data-stat="rtt"] .v').textContent,
    bytes: q('[data-stat="bytes"] .v').textContent,
  };
})()`
}

// waitFor waits, in the browser, until the card sel satisfies cond (a
// JavaScript expression over the page value p), and returns what it shows
// then.
func waitFor(t *testing.T, ctx context.Context, sel, cond string) page {
	t.Helper()
	p, err := chromedp.Run(ctx, chromedp.Poll[page](`(() => { const p = `+readCard(sel)+`; return p && (`+cond+`) ? p : null; })()`,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(deadline)))
	require.NoError(t, err, "the page never showed %s", cond)
	return p
}

// TestInspectorInChromium opens the inspector in headless Chromium on two
// clients and checks what a person would see. The first connects, is
// dropped, backs off while the server refuses it, and reconnects: the
// highlighted state follows, the timeline grows, the counters move, the
// retry ahead and the reconnect schedule after it are shown while it
// waits, and the page comes back by itself when its event stream breaks.
// The second is refused from the start and waits a minute or more: its
// card shows the schedule ahead, each random delay as the interval it will
// be drawn from. It saves a screenshot.
func TestInspectorInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conns := make(chan *tethertest.WSConn, 16)
	srv := tethertest.NewWSServer(tethertest.WithHandler(feed(conns)))
	defer srv.Close()
	backoff, err := policy.New(policy.Exponential{Initial: 400 * time.Millisecond, Max: 800 * time.Millisecond})
	require.NoError(t, err)
	c, err := tether.New[string](srv.URL+"?token=secret-token",
		tether.WithReconnect(backoff),
		tether.WithHeartbeat(policy.Heartbeat{Interval: 200 * time.Millisecond, PongTimeout: 150 * time.Millisecond}),
		tether.OnRaw(func(transport.Message) {}))
	require.NoError(t, err)
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), deadline)
		defer ccancel()
		assert.NoError(t, c.Close(cctx))
	}()
	// The second client's server refuses it; it backs off from a minute
	// (equal jitter: its first delay is drawn from [30 s, 60 s]), so it
	// waits for the whole test.
	down := tethertest.NewWSServer()
	defer down.Close()
	down.Refuse(http.StatusServiceUnavailable)
	slow, err := policy.New(policy.Exponential{Initial: time.Minute, Max: 10 * time.Minute})
	require.NoError(t, err)
	c2, err := tether.New[string](down.URL, tether.WithReconnect(slow), tether.OnRaw(func(transport.Message) {}))
	require.NoError(t, err)
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), deadline)
		defer ccancel()
		assert.NoError(t, c2.Close(cctx))
	}()

	in := inspect.New(inspect.WithInterval(100 * time.Millisecond))
	in.Add("quotes "+srv.URL+"?token=secret-token", c)
	in.Add("orders", c2)
	mux := http.NewServeMux()
	mux.Handle("/inspect/", http.StripPrefix("/inspect", in))
	web := httptest.NewServer(mux)
	defer web.Close()
	bctx, closeBrowser := browser(t, ctx)
	defer closeBrowser() // first: the page's event stream keeps web busy

	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(web.URL+"/inspect/"),
		chromedp.WaitVisible(`body[data-ready="true"]`)))
	name, err := chromedp.Run(bctx, chromedp.Text(quotes+" h2 .name"))
	require.NoError(t, err)
	assert.NotContains(t, name, "secret-token", "the URL is redacted")
	assert.Contains(t, name, transport.Redacted)

	// The client that cannot connect: Waiting, the retry ahead, and the
	// five attempts after it with the intervals their delays are drawn
	// from (1.6 min, 2.56 min... halved by the jitter below).
	refusedAll := waitFor(t, bctx, orders, `p.badge === "Waiting" && p.ahead.length > 0`)
	assert.Equal(t, "Waiting", refusedAll.Current)
	assert.Contains(t, refusedAll.Next, "next: reconnect attempt 1 after a ")
	assert.Equal(t, []string{
		"attempt 2 after 48.00 s to 1 min 36 s",
		"attempt 3 after 1 min 17 s to 2 min 34 s",
		"attempt 4 after 2 min 3 s to 4 min 6 s",
		"attempt 5 after 3 min 17 s to 6 min 33 s",
		"attempt 6 after 5 min to 10 min",
	}, refusedAll.Ahead)
	assert.Contains(t, refusedAll.AheadNote, "interval", "the page says a random delay is shown as its interval")
	assert.Empty(t, refusedAll.AheadStop, "the policy has no cap")
	assert.Contains(t, refusedAll.Entries, "503")

	// Open: highlighted, the counters move.
	first := waitFor(t, bctx, quotes, `p.badge === "Open" && p.messagesIn > 5 && p.rtt.endsWith(" ms")`)
	assert.Equal(t, "Open", first.Current, "the diagram highlights the state the badge names")
	assert.Equal(t, "Connecting>Open", first.LastEdge)
	assert.Contains(t, first.Entries, "Connecting --dialed--> Open")
	assert.Empty(t, first.Next)
	assert.Empty(t, first.Ahead)
	assert.Zero(t, first.Reconnects)
	assert.Regexp(t, `^[0-9]+(\.[0-9])? (B|KiB|MiB) · [0-9]+(\.[0-9])? (B|KiB|MiB)$`, first.Bytes, "rates rounded")

	// Dropped, and refused while backing off: Waiting, with the retry
	// ahead and the schedule after it.
	var sc *tethertest.WSConn
	select {
	case sc = <-conns:
	case <-ctx.Done():
		require.FailNow(t, "no connection reached the server")
	}
	srv.Refuse(http.StatusServiceUnavailable)
	sc.Drop()
	waiting := waitFor(t, bctx, quotes, `p.badge === "Waiting" && p.next !== "" && p.ahead.length > 0`)
	assert.Equal(t, "Waiting", waiting.Current)
	m := regexp.MustCompile(`^next: reconnect attempt (\d+) after a `).FindStringSubmatch(waiting.Next)
	require.NotNil(t, m, waiting.Next)
	next, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.Len(t, waiting.Ahead, 5)
	for i, line := range waiting.Ahead {
		// 400 ms x1.6 per attempt, capped at 800 ms, equal jitter.
		assert.Regexp(t, `^attempt `+strconv.Itoa(next+1+i)+` after [0-9]+ ms to [0-9]+ ms$`, line)
	}
	assert.Contains(t, waiting.Entries, "Open --dropped--> Waiting")
	assert.Greater(t, waiting.Timeline, first.Timeline, "the timeline grew")
	refused := waitFor(t, bctx, quotes, `p.entries.includes("Connecting --dial_failed--> Waiting")`)
	assert.Contains(t, refused.Entries, "503", "the cause is shown")

	// Accepted again: Open, one more reconnect or several, counters moving on.
	srv.Refuse(0)
	back := waitFor(t, bctx, quotes, `p.badge === "Open" && p.reconnects >= 1 && p.messagesIn > `+strconv.Itoa(waiting.MessagesIn+5))
	assert.Equal(t, "Open", back.Current)
	assert.Equal(t, "Connecting>Open", back.LastEdge)
	assert.Greater(t, back.Timeline, waiting.Timeline)
	assert.Empty(t, back.Next, "no retry ahead once open")
	assert.Empty(t, back.Ahead, "nor a schedule")
	assert.Equal(t, c.Stats().Reconnects >= 1, true)
	assert.True(t, strings.Contains(back.Entries, "Waiting --retry--> Connecting"))

	// The event stream breaks: the browser comes back by itself and the
	// page starts again from a fresh snapshot, with the whole story.
	web.CloseClientConnections()
	again, err := chromedp.Run(bctx, chromedp.Poll[page](`(() => {
		if (Number(document.body.dataset.hellos) < 2 || document.getElementById("live").textContent !== "live") return null;
		const p = `+readCard(quotes)+`; return p && p.badge === "Open" ? p : null; })()`,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(deadline)))
	require.NoError(t, err, "the page did not come back after its stream broke")
	assert.GreaterOrEqual(t, again.Timeline, back.Timeline)
	assert.Contains(t, again.Entries, "Open --dropped--> Waiting")
	stillWaiting := waitFor(t, bctx, orders, `p.badge === "Waiting" && p.ahead.length > 0`)
	assert.Equal(t, refusedAll.Ahead, stillWaiting.Ahead, "the fresh snapshot has the schedule")

	// What a person sees, saved.
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	path := *screenshot
	if path == "" {
		path = filepath.Join(t.TempDir(), "inspector.png")
	}
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// authenticating is the stage of the client that authenticates.
var authenticating = fsm.DefineStage("Authenticating")

// authServer answers a client's auth message with "auth_ok" (JSON, which
// Stage.Decode reads) once the test releases it, then sends readings as
// feed does.
func authServer(release <-chan struct{}) func(*tethertest.WSConn) {
	readings := feed(make(chan *tethertest.WSConn))
	return func(c *tethertest.WSConn) {
		// Recv returns when the connection ends too. Stage.Send sends a
		// string as is.
		m, err := c.Recv(context.Background())
		if err != nil || string(m.Payload) != "auth" {
			c.Drop()
			return
		}
		select {
		case <-release:
		case <-c.Done():
			return
		}
		if c.Send(transport.Text, []byte(`"auth_ok"`)) != nil {
			return
		}
		readings(c)
	}
}

// TestInspectorShowsStagesInChromium opens the inspector in headless
// Chromium on two clients with different tables: one with a stage,
// Authenticating, that waits for the server's answer, and one without. Each
// card shows its own lifecycle: a person sees Authenticating highlighted,
// reached by the dialed arc, while the stage waits, then Open, reached by
// stage_done; the other card has no such state.
func TestInspectorShowsStagesInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	release := make(chan struct{})
	srv := tethertest.NewWSServer(tethertest.WithHandler(authServer(release)))
	defer srv.Close()
	c, err := tether.New[string](srv.URL,
		tether.WithStage(authenticating, func(ctx context.Context, s *tether.Stage) error {
			if err := s.Send(ctx, "auth"); err != nil {
				return err
			}
			m, err := s.Receive(ctx)
			if err != nil {
				return err
			}
			var verdict string
			if err := s.Decode(m.Payload, &verdict); err != nil {
				return err
			}
			if verdict != "auth_ok" {
				return fmt.Errorf("refused: %q", verdict)
			}
			return nil
		}),
		tether.OnRaw(func(transport.Message) {}))
	require.NoError(t, err)
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), deadline)
		defer ccancel()
		assert.NoError(t, c.Close(cctx))
	}()
	plain := tethertest.NewWSServer(tethertest.WithHandler(feed(make(chan *tethertest.WSConn))))
	defer plain.Close()
	c2, err := tether.New[string](plain.URL, tether.OnRaw(func(transport.Message) {}))
	require.NoError(t, err)
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), deadline)
		defer ccancel()
		assert.NoError(t, c2.Close(cctx))
	}()

	in := inspect.New(inspect.WithInterval(100 * time.Millisecond))
	in.Add("authenticated", c)
	in.Add("plain", c2)
	web := httptest.NewServer(in)
	defer web.Close()
	bctx, closeBrowser := browser(t, ctx)
	defer closeBrowser() // first: the page's event stream keeps web busy

	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(web.URL+"/"),
		chromedp.WaitVisible(`body[data-ready="true"]`)))
	const staged, other = "#client-1", "#client-2"
	// The states each card draws, in order.
	states := func(sel string) []string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+
			strconv.Quote(sel+" g.state")+`)).map(g => g.dataset.state)`))
		require.NoError(t, err)
		return s
	}
	assert.Equal(t, []string{"Idle", "Connecting", "Authenticating", "Open", "Closing", "Disconnecting", "Waiting", "Closed"},
		states(staged), "the staged card draws its own table")
	assert.Equal(t, []string{"Idle", "Connecting", "Open", "Closing", "Disconnecting", "Waiting", "Closed"},
		states(other), "the other card draws the plain one")

	// The stage waits for the server's answer: Authenticating highlighted.
	authn := waitFor(t, bctx, staged, `p.current === "Authenticating"`)
	assert.Equal(t, "Authenticating", authn.Badge, "the badge names the stage")
	assert.Equal(t, "Connecting>Authenticating", authn.LastEdge, "reached by the dialed arc")
	assert.Contains(t, authn.Entries, "Connecting --dialed--> Authenticating")
	assert.Zero(t, authn.MessagesIn, "nothing delivered before Open")
	assert.Equal(t, "Open", waitFor(t, bctx, other, `p.current === "Open"`).Badge)

	close(release)
	open := waitFor(t, bctx, staged, `p.current === "Open" && p.messagesIn > 3`)
	assert.Equal(t, "Open", open.Badge)
	assert.Equal(t, "Authenticating>Open", open.LastEdge, "reached by stage_done")
	assert.Contains(t, open.Entries, "Authenticating --stage_done--> Open")
}

// TestWaitingShowsItsRetryAtOnceInChromium: a client that fails to dial
// is shown Waiting with its retry at once, from the transition itself: the
// page's counters come only every hour here.
func TestWaitingShowsItsRetryAtOnceInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	down := tethertest.NewWSServer()
	defer down.Close()
	down.Refuse(http.StatusServiceUnavailable)
	slow, err := policy.New(policy.Exponential{Initial: time.Minute, Max: 10 * time.Minute})
	require.NoError(t, err)
	c, err := tether.New[string](down.URL, tether.WithReconnect(slow), tether.WithAutoConnect(false),
		tether.OnRaw(func(transport.Message) {}))
	require.NoError(t, err)
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), deadline)
		defer ccancel()
		assert.NoError(t, c.Close(cctx))
	}()
	in := inspect.New(inspect.WithInterval(time.Hour))
	in.Add("refused", c)
	web := httptest.NewServer(in)
	defer web.Close()
	bctx, closeBrowser := browser(t, ctx)
	defer closeBrowser()
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(web.URL+"/"),
		chromedp.WaitVisible(`body[data-ready="true"]`)))
	assert.Equal(t, "Idle", waitFor(t, bctx, "#client-1", `p.badge === "Idle"`).Badge)

	// Connect starts the client, and waits for Open until the test ends.
	cctx, stop := context.WithCancel(ctx)
	connected := make(chan error, 1)
	go func() { connected <- c.Connect(cctx) }()
	defer func() {
		stop()
		<-connected
	}()
	waiting := waitFor(t, bctx, "#client-1", `p.badge === "Waiting" && p.next !== ""`)
	assert.Contains(t, waiting.Next, "next: reconnect attempt 1 after a ")
	assert.Len(t, waiting.Ahead, 5, "and the schedule after it")
	assert.Contains(t, waiting.Entries, "Connecting --dial_failed--> Waiting")

	// A rate is a fraction: the page rounds it.
	for in, want := range map[string]string{"396.22641509433964": "396 B", "1023.7": "1.0 KiB", "0.4": "0 B"} {
		got, err := chromedp.Run(bctx, chromedp.Evaluate[string]("fmtBytes("+in+")"))
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
}

// A page refused because WithMaxPages pages are open says so, and comes
// back by itself once one of them closes (a browser does not retry an
// event stream that was answered with an error).
func TestRefusedPageRetriesInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	in := inspect.New(inspect.WithMaxPages(1), inspect.WithInterval(time.Hour))
	web := httptest.NewServer(in)
	defer web.Close()

	// Another page holds the only place.
	hctx, release := context.WithCancel(ctx)
	defer release()
	req, err := http.NewRequestWithContext(hctx, http.MethodGet, web.URL+"/events", nil)
	require.NoError(t, err)
	held, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer held.Body.Close()
	require.Equal(t, http.StatusOK, held.StatusCode)

	bctx, closeBrowser := browser(t, ctx)
	defer closeBrowser()
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(web.URL+"/")))
	live := func(cond string) string {
		t.Helper()
		got, err := chromedp.Run(bctx, chromedp.Poll[string](`(() => { const s = document.getElementById("live").textContent; return `+cond+` ? s : null; })()`,
			chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(deadline)))
		if err != nil {
			now, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("live").textContent + " ready=" + document.body.dataset.ready`))
			require.NoError(t, err, "the page never showed %s; it shows %q", cond, now)
		}
		return got
	}
	assert.Contains(t, live(`s.startsWith("refused")`), "retrying")

	release()
	assert.Equal(t, "live", live(`s === "live" && document.body.dataset.ready === "true"`))
	empty, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("empty")?.textContent ?? ""`))
	require.NoError(t, err)
	assert.Equal(t, "No clients yet.", empty)

	// A client added later takes the place of "No clients yet.".
	c, err := tether.New[string]("ws://127.0.0.1:1/", tether.WithAutoConnect(false))
	require.NoError(t, err)
	defer func() { assert.NoError(t, c.Close(context.Background())) }()
	in.Add("later", c)
	card := waitFor(t, bctx, "#client-1", `p.badge === "Idle"`)
	assert.Equal(t, "Idle", card.Badge)
	gone, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById("empty") === null && !document.body.textContent.includes("No clients yet.")`))
	require.NoError(t, err)
	assert.True(t, gone, "the empty notice is gone once a client is shown")
}
