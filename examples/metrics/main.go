// Command metrics is the seed's metrics store in Go: a typed metrics feed
// over WebSocket that falls back to REST polling when WebSocket is blocked,
// and upgrades back to WebSocket when it works again, without losing or
// repeating a single metric across the switches.
//
//	go run ./examples/metrics
//
// The program starts its own server on a loopback port. The server produces
// one sequence of metrics, each envelope {type, data, timestamp} of type
// "system", "process" or "custom", each carrying a sequence number. It serves
// them on a WebSocket endpoint (/metrics/ws?since=N resumes after N) and on a
// REST endpoint (/metrics/poll?since=N: a JSON array, with an ETag that is
// the client's cursor). The client routes the three types to typed handlers
// of a store and remembers the last sequence number it saw; its URL function
// puts it in the query on every attempt, so every new connection, on either
// transport, resumes exactly there.
//
// The story has three phases: WebSocket; blocked (the server refuses
// upgrades with 403, as a proxy does, and drops the open connection: the
// client falls back to polling at once); restored (the server accepts
// upgrades again: a probe finds WebSocket back and the client upgrades).
// At the end the program checks the sequence numbers for gaps and
// duplicates and prints the Mermaid trace, where the switches show.
//
// It finishes by itself in a few seconds.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/fallback"
	"github.com/tether-go/tether/transport/polling"
	"github.com/tether-go/tether/transport/websocket"
)

// perPhase is how many metrics each phase waits for over its transport.
const perPhase = 8

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "metrics:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	_, err := demo(ctx, w)
	return err
}

// Phase is one step of the story: its name and the connection that carried
// its metrics (whose Open transition names the transport).
type Phase struct {
	Name string
	Conn Connection
}

// Result is what the program observed.
type Result struct {
	Phases []Phase
	// Conns lists every connection that opened, in order.
	Conns []Connection
	// Seqs holds every sequence number received, in arrival order, across
	// all connections.
	Seqs []uint64
	// Trace is the client's recorded lifecycle.
	Trace []fsm.Transition
}

// ErrSequence reports a gap or a duplicate in the sequence numbers.
var ErrSequence = errors.New("metrics: sequence numbers have a gap or a duplicate")

// printer writes timestamped lines; callbacks, handlers and the server
// share it.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (p *printer) printf(who, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%7s  %-10s %s\n", time.Since(p.start).Round(time.Millisecond), who, fmt.Sprintf(format, args...))
}

// demo runs the three phases against the embedded server and returns what
// it observed. run is demo for main; the test reads the Result.
func demo(ctx context.Context, w io.Writer) (*Result, error) {
	out := &printer{w: w, start: time.Now()}

	f := newFeed()
	stop := make(chan struct{})
	var gen sync.WaitGroup
	gen.Go(func() { f.generate(stop, 40*time.Millisecond) })
	defer gen.Wait()
	defer close(stop)
	srv := newServer(f, out)
	defer srv.Close()
	out.printf("server", "listening on %s", srv.URL)

	st := newStore(out)
	router := stream.NewRouter()
	defer router.Close()
	st.route(router)

	c, err := newClient(srv.URL, st, router, out)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Close(context.Background()) }()

	// wait returns the first connection after index after that carried
	// perPhase metrics over the transport want.
	wait := func(name, want string, after int) (Phase, int, error) {
		for {
			i, conn := st.current()
			if i > after && conn.Open.Transport == want && len(conn.Seqs) >= perPhase {
				out.printf("phase", "%s: %d metrics over %s", name, len(conn.Seqs), conn.Open.Transport)
				return Phase{Name: name, Conn: conn}, i, nil
			}
			select {
			case <-st.notify:
			case <-ctx.Done():
				return Phase{}, 0, fmt.Errorf("phase %s: waiting for %d metrics over %s: %w", name, perPhase, want, ctx.Err())
			}
		}
	}

	res := &Result{}
	out.printf("phase", "websocket: the client connects over WebSocket")
	p1, i1, err := wait("websocket", "websocket", -1)
	if err != nil {
		return nil, err
	}

	out.printf("phase", "blocked: the server refuses WebSocket with 403 and drops the connection")
	srv.Refuse(403)
	srv.DropAll()
	p2, i2, err := wait("blocked", "polling", i1)
	if err != nil {
		return nil, err
	}

	out.printf("phase", "restored: the server accepts WebSocket again")
	srv.Refuse(0)
	p3, _, err := wait("restored", "websocket", i2)
	if err != nil {
		return nil, err
	}
	res.Phases = []Phase{p1, p2, p3}

	out.printf("client", "closing")
	if err := c.Close(ctx); err != nil {
		return nil, err
	}
	<-c.Done() // the last callbacks have run
	res.Conns = st.connections()
	res.Trace = c.Trace()

	// The server's handlers may still print (a connection's last line
	// comes once the client's close frame has reached it): write the
	// summary under the printer's lock.
	out.mu.Lock()
	defer out.mu.Unlock()
	fmt.Fprintf(w, "\nConnections:\n")
	for _, conn := range res.Conns {
		res.Seqs = append(res.Seqs, conn.Seqs...)
		if len(conn.Seqs) == 0 {
			fmt.Fprintf(w, "  %-9s  no metrics\n", conn.Open.Transport)
			continue
		}
		fmt.Fprintf(w, "  %-9s  %3d metrics  #%d to #%d\n", conn.Open.Transport, len(conn.Seqs), conn.Seqs[0], conn.Seqs[len(conn.Seqs)-1])
	}
	if err := checkSequence(res.Seqs); err != nil {
		return res, err
	}
	fmt.Fprintf(w, "Sequence #1 to #%d: no gap, no duplicate.\n", len(res.Seqs))
	fmt.Fprintf(w, "\nWhat happened, as a Mermaid diagram (paste it into https://mermaid.live):\n\n%s", c.TraceMermaid())
	return res, nil
}

// checkSequence reports an ErrSequence unless seqs is exactly 1, 2, ... n.
func checkSequence(seqs []uint64) error {
	for i, s := range seqs {
		if s != uint64(i)+1 {
			return fmt.Errorf("%w: position %d holds #%d", ErrSequence, i+1, s)
		}
	}
	return nil
}

// newClient composes the client: WebSocket first with REST polling as the
// fallback, probing WebSocket every 300 ms while polling; the typed store
// behind a router; a URL that resumes after the last sequence number seen.
func newClient(base string, st *store, router *stream.Router, out *printer) (*tether.Client[stream.Envelope], error) {
	ws, err := websocket.New()
	if err != nil {
		return nil, err
	}
	poll, err := polling.New(
		polling.WithPollPath("/metrics/poll"), // ws://host/metrics/ws?since=N polls http://host/metrics/poll?since=N
		polling.WithInterval(100*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	tr, err := fallback.New(ws, poll,
		fallback.WithProbeInterval(300*time.Millisecond),
		fallback.WithOnSwitch(func(from, to string, reason error) {
			if status := transport.StatusFromError(reason); status != 0 {
				out.printf("switch", "%s -> %s (%s refused with HTTP %d)", from, to, from, status)
				return
			}
			out.printf("switch", "%s -> %s (%v)", from, to, reason)
		}),
	)
	if err != nil {
		return nil, err
	}

	// Backoff from 100 ms, except after an upgrade: WebSocket is known to
	// be back, so reconnect at once.
	backoff := policy.Exponential{Initial: 100 * time.Millisecond, Max: 400 * time.Millisecond, Jitter: policy.JitterNone}
	reconnect, err := policy.New(policy.Func(func(rc policy.RetryContext) policy.Decision {
		if errors.Is(rc.Err, fallback.ErrUpgrade) {
			return policy.Decision{}
		}
		return backoff.Next(rc)
	}))
	if err != nil {
		return nil, err
	}

	url := func(context.Context) (string, error) {
		return fmt.Sprintf("%s/metrics/ws?since=%d", base, st.lastSeq()), nil
	}
	return tether.New[stream.Envelope](url,
		tether.WithTransport(tr),
		tether.WithRouter(router),
		tether.WithReconnect(reconnect),
		tether.OnOpen(st.opened),
		tether.OnTransition(func(tr fsm.Transition) { out.printf("transition", "%s", tr) }),
	)
}
