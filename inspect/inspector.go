package inspect

import (
	"embed"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// Client is what the inspector reads from a client. Every *tether.Client[T]
// implements it, whatever its T.
//
// Watch is how an open page hears of the client's transitions: the
// inspector's Watcher hands each one to a queue of the page's own that
// never waits, so what a slow page misses is the page's business (it shows
// the gap) and never a drop of the client's (no *tether.SubscriberDropError,
// nothing in Stats.SubscriberDrops).
//
// Lifecycle is the table the client runs, its stages included: the page
// draws it (DiagramOf) as the client's diagram. The inspector reads it once
// per client, the first time a page asks for it. It is required, not
// optional: a wrapper that did not pass it on would otherwise be shown with
// the plain lifecycle, a table it may not run.
type Client interface {
	Trace() []fsm.Transition
	Watch(w tether.Watcher) (stop func())
	Stats() tether.Stats
	Buffered() (messages, bytes int)
	Lifecycle() fsm.Def[fsm.State, fsm.Event]
}

// Defaults of the options.
const (
	DefaultInterval     = time.Second
	DefaultBuffer       = 256
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxPages     = 32
	DefaultPageLifetime = 5 * time.Minute
)

// Option configures an Inspector.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	interval     time.Duration
	buffer       int
	writeTimeout time.Duration
	maxPages     int
	pageLifetime time.Duration
	title        string
}

// WithInterval sets how often an open page receives the counters
// (DefaultInterval). Values below 10 ms are raised to 10 ms.
func WithInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.interval = max(d, 10*time.Millisecond) })
}

// WithBuffer sets how many transitions of one client a page may fall
// behind before the oldest are dropped (DefaultBuffer): the page shows how
// many it missed; the client is not told. Values below 1 are raised to 1.
func WithBuffer(n int) Option {
	return optionFunc(func(c *config) { c.buffer = max(n, 1) })
}

// WithWriteTimeout bounds each write to a page (DefaultWriteTimeout): a
// page that does not take an update within it is disconnected.
func WithWriteTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.writeTimeout = d
		}
	})
}

// WithMaxPages bounds how many pages may watch at once (DefaultMaxPages).
// Each open page holds a goroutine, a queue and a Watcher per client; a
// page beyond the bound is refused with 503 Service Unavailable and a
// Retry-After header, and tries again by itself. Values below 1 are raised
// to 1.
func WithMaxPages(n int) Option {
	return optionFunc(func(c *config) { c.maxPages = max(n, 1) })
}

// WithPageLifetime ends each page's event stream after d
// (DefaultPageLifetime); the page's script comes back by itself a second
// later and is sent the whole state again. It bounds how long a page that
// stopped reading keeps its place among WithMaxPages: WithWriteTimeout
// notices such a page only once the socket's buffers are full, which at a
// few hundred bytes a second takes hours. Values below 1 second are
// raised to 1 second.
func WithPageLifetime(d time.Duration) Option {
	return optionFunc(func(c *config) { c.pageLifetime = max(d, time.Second) })
}

// WithTitle sets the page's title ("tether inspector").
func WithTitle(title string) Option {
	return optionFunc(func(c *config) { c.title = bounded(title, 120) })
}

//go:embed assets
var assets embed.FS

// Inspector is an http.Handler that shows its clients live. Its methods are
// safe for concurrent use; the zero value is not usable, call New.
type Inspector struct {
	cfg config

	pages atomic.Int32 // event streams open (see WithMaxPages)

	mu      sync.Mutex
	entries []*entry
	nextID  int
	changed chan struct{} // closed and replaced whenever entries change
}

// entry is one client on the page.
type entry struct {
	id   int
	name string
	c    Client

	diagram func() DiagramView // its lifecycle, drawn once
}

// newEntry records c; its diagram is drawn the first time a page asks.
func newEntry(id int, name string, c Client) *entry {
	return &entry{id: id, name: name, c: c, diagram: sync.OnceValue(func() DiagramView {
		svg, err := DiagramOf(c.Lifecycle())
		if err != nil {
			// Not a client of package tether, whose table is valid: the
			// page shows no diagram rather than one the client does not run.
			return DiagramView{}
		}
		return DiagramView{ID: diagramID(svg), SVG: svg}
	})}
}

// New returns an inspector with no clients.
func New(opts ...Option) *Inspector {
	cfg := config{interval: DefaultInterval, buffer: DefaultBuffer, writeTimeout: DefaultWriteTimeout, maxPages: DefaultMaxPages,
		pageLifetime: DefaultPageLifetime, title: "tether inspector"}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	return &Inspector{cfg: cfg, changed: make(chan struct{})}
}

// Add shows c on the page under name, until the returned function is
// called (it is idempotent). A name that holds a URL is redacted
// (transport.RedactURL); an empty name becomes "client N"; a name longer
// than 120 characters is cut there, with "...", and control characters
// become spaces. Add starts
// nothing: a client costs the inspector nothing until a page is open.
func (in *Inspector) Add(name string, c Client) (remove func()) {
	in.mu.Lock()
	in.nextID++
	e := newEntry(in.nextID, label(name, in.nextID), c)
	in.entries = append(in.entries, e)
	in.notifyLocked()
	in.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			in.mu.Lock()
			defer in.mu.Unlock()
			for i, x := range in.entries {
				if x == e {
					in.entries = append(in.entries[:i:i], in.entries[i+1:]...)
					break
				}
			}
			in.notifyLocked()
		})
	}
}

// notifyLocked wakes the open pages; in.mu is held.
func (in *Inspector) notifyLocked() {
	close(in.changed)
	in.changed = make(chan struct{})
}

// list returns the entries and the channel closed at their next change.
func (in *Inspector) list() ([]*entry, <-chan struct{}) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]*entry(nil), in.entries...), in.changed
}

// ServeHTTP serves the page (the mount path itself, or index.html), its
// assets (app.js, style.css), the lifecycle diagram (diagram.svg: the plain
// one, see Diagram; diagram.svg?client=ID: that client's own, stages
// included), a JSON snapshot of every client (snapshot.json) and the event
// stream (events). Only GET and HEAD are allowed.
func (in *Inspector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	switch name := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]; name {
	case "", "index.html":
		in.serveIndex(w)
	case "app.js":
		serveAsset(w, "assets/app.js", "text/javascript; charset=utf-8")
	case "style.css":
		serveAsset(w, "assets/style.css", "text/css; charset=utf-8")
	case "diagram.svg":
		in.serveDiagram(w, r)
	case "snapshot.json":
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		_ = writeJSON(w, in.snapshot())
	case "events":
		in.serveEvents(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (in *Inspector) serveIndex(w http.ResponseWriter) {
	b, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, "missing asset", http.StatusInternalServerError)
		return
	}
	page := strings.Replace(string(b), "{{title}}", htmlEscape(in.cfg.title), 2)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(page)))
	_, _ = w.Write([]byte(page))
}

// serveDiagram serves the plain lifecycle, or with ?client=ID the diagram
// of that client.
func (in *Inspector) serveDiagram(w http.ResponseWriter, r *http.Request) {
	svg := Diagram()
	if q := r.URL.Query().Get("client"); q != "" {
		id, err := strconv.Atoi(q)
		entries, _ := in.list()
		i := slices.IndexFunc(entries, func(e *entry) bool { return e.id == id })
		if err != nil || i < 0 {
			http.NotFound(w, r)
			return
		}
		if svg = entries[i].diagram().SVG; svg == "" {
			http.NotFound(w, r)
			return
		}
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	_, _ = w.Write([]byte(svg))
}

func serveAsset(w http.ResponseWriter, name, ctype string) {
	b, err := assets.ReadFile(name)
	if err != nil {
		http.Error(w, "missing asset", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// label is what the page calls a client: name with any URL in it
// redacted, bounded in length.
func label(name string, id int) string {
	if strings.TrimSpace(name) == "" {
		return "client " + strconv.Itoa(id)
	}
	if strings.Contains(name, "://") || strings.Contains(name, "@") {
		fields := strings.Fields(name)
		for i, f := range fields {
			if strings.Contains(f, "://") || strings.Contains(f, "@") {
				fields[i] = transport.RedactURL(f)
			}
		}
		name = strings.Join(fields, " ")
	}
	return bounded(name, 120)
}

// bounded cuts s to n runes, with "..." when cut, and drops control
// characters.
func bounded(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}
