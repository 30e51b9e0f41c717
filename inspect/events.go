package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
)

// pageQueue is how many updates wait for a page's writer, across its
// clients, before the clients' own queues take the rest.
const pageQueue = 64

// retryPageAfter is the Retry-After, in seconds, of a page refused by
// WithMaxPages; the page's script waits as long before it asks again.
const retryPageAfter = 5

// update is one server-sent event.
type update struct {
	name string // the SSE event name
	data any    // JSON-encoded as the event's data
}

// serveEvents streams updates to one page until it goes away, its writes
// stall past the write timeout, its request's context ends, or it has
// been open for the page lifetime.
//
// Goroutines: this one writes; one forwarder per client moves its
// transitions from the page's queue for that client (bounded, dropping its
// oldest) to the page's queue. The client hands each transition to the
// inspector's Watcher, which never waits; the page sees what it missed as
// a gap in the transitions' Seq.
func (in *Inspector) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	if r.Method == http.MethodHead {
		return
	}
	if int(in.pages.Add(1)) > in.cfg.maxPages {
		in.pages.Add(-1)
		h.Set("Retry-After", strconv.Itoa(retryPageAfter))
		http.Error(w, "too many inspector pages open", http.StatusServiceUnavailable)
		return
	}
	defer in.pages.Add(-1)
	ctx, cancel := context.WithCancel(r.Context())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	queue := make(chan update, pageQueue)
	watched := map[*entry]context.CancelFunc{}
	watch := func(e *entry) {
		ectx, ecancel := context.WithCancel(ctx)
		watched[e] = ecancel
		// Watch before the snapshot is taken: the page drops what it has
		// already (by Seq), and misses nothing in between.
		trs := newDropOldest(in.cfg.buffer)
		stop := e.c.Watch(tether.Watcher{Transition: trs.push})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer stop()
			for {
				var tr fsm.Transition
				select {
				case tr = <-trs.c:
				case <-ectx.Done():
					return
				}
				// Stats hold the transition, and the retry it waits for,
				// before the client hands it to a Watcher.
				ev := TransitionEvent{TransitionView: transitionView(e.id, tr), Now: stateView(e.c.Stats())}
				select {
				case queue <- update{"transition", ev}:
				case <-ectx.Done():
					return
				}
			}
		}()
	}

	entries, changed := in.list()
	for _, e := range entries {
		watch(e)
	}
	write := func(u update) bool { return in.send(rc, w, u) == nil }
	hello := in.snapshot()
	sent := make(map[string]bool, len(hello.Diagrams)) // the diagrams the page has
	for id := range hello.Diagrams {
		sent[id] = true
	}
	if !write(update{"hello", hello}) {
		return
	}
	tick := time.NewTicker(in.cfg.interval)
	defer tick.Stop()
	life := time.NewTimer(in.cfg.pageLifetime)
	defer life.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-life.C:
			// The stream ends; a page that reads comes back by itself
			// (the retry of hello) with a fresh snapshot, and one that
			// stopped reading frees its place.
			return
		case u := <-queue:
			if !write(u) {
				return
			}
		case <-changed:
			var now []*entry
			now, changed = in.list()
			present := make(map[*entry]bool, len(now))
			for _, e := range now {
				present[e] = true
				if _, ok := watched[e]; !ok {
					watch(e)
					if d := e.diagram(); d.ID != "" && !sent[d.ID] {
						sent[d.ID] = true
						if !write(update{"diagram", d}) {
							return
						}
					}
					if !write(update{"client", clientView(e)}) {
						return
					}
				}
			}
			for e, stop := range watched {
				if !present[e] {
					stop()
					delete(watched, e)
					if !write(update{"removed", map[string]int{"id": e.id}}) {
						return
					}
				}
			}
		case <-tick.C:
			entries, _ := in.list()
			views := make([]StatsView, 0, len(entries))
			for _, e := range entries {
				views = append(views, statsView(e))
			}
			if !write(update{"stats", views}) {
				return
			}
		}
	}
}

// send writes one event and flushes it, within the write timeout.
func (in *Inspector) send(rc *http.ResponseController, w http.ResponseWriter, u update) error {
	data, err := json.Marshal(u.data)
	if err != nil {
		return err
	}
	if err := rc.SetWriteDeadline(time.Now().Add(in.cfg.writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	retry := ""
	if u.name == "hello" {
		retry = "retry: 1000\n" // how soon the browser comes back after a disconnection
	}
	// JSON holds no raw line break, so the data is one line.
	if _, err := fmt.Fprintf(w, "%sevent: %s\ndata: %s\n\n", retry, u.name, data); err != nil {
		return err
	}
	if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// dropOldest is a page's queue of one client's transitions: push never
// waits, and drops the oldest when the queue is full.
type dropOldest struct {
	c chan fsm.Transition
}

func newDropOldest(n int) *dropOldest { return &dropOldest{c: make(chan fsm.Transition, n)} }

// push queues tr, on the client's machine actor (the only caller, so a
// slot it frees stays free): when the queue is full it takes out the
// oldest first.
func (q *dropOldest) push(tr fsm.Transition) {
	for {
		select {
		case q.c <- tr:
			return
		default:
		}
		select {
		case <-q.c: // the page shows the gap in Seq
		default:
		}
	}
}
