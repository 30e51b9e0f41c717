// Command drift shows envelope routing and a reconnect policy that gives
// up: a drift-detection feed sends "detected" and "resolved" envelopes
// {type, data, timestamp}, routed to typed handlers; then its server goes
// away for good, and the client, allowed three reconnect attempts, stops
// trying and says why.
//
//	go run ./examples/drift
//
// The program starts its own WebSocket server on a loopback port. "detected"
// messages go to a handler (stream.Handle) that runs on the client's reader
// and records the drift; "resolved" messages go to a typed stream
// (stream.Route) that a goroutine of the program reads. After its script the
// server closes with 1001 (going away) and shuts down. The reconnect policy
// is exponential backoff capped at three attempts
// (policy.New(policy.Exponential{...}, policy.WithMaxAttempts(3))): the
// three dials are refused, the policy stops, and the client moves to Closed
// with a give_up transition whose cause is a *policy.StopError matching
// policy.ErrAttemptsExhausted. The program prints that transition, its
// cause, the final state, and the drifts still open when the feed was lost.
//
// It finishes by itself in a few seconds.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "drift:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	_, err := demo(ctx, w)
	return err
}

// Result is what the program observed.
type Result struct {
	Detected []Detected
	Resolved []Resolved
	// Open lists the drifts detected and not resolved when the feed was
	// lost, by resource.
	Open []Detected
	// Retries are the reconnect attempts the policy scheduled.
	Retries []tether.Retry
	// GiveUp is the transition to Closed: event give_up, its Cause the
	// policy's *policy.StopError.
	GiveUp fsm.Transition
	// Final is the client's state at the end.
	Final fsm.State
	// ConnectErr is what Connect returns once the client has given up.
	ConnectErr error
}

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

// drifts is the program's view of the infrastructure: drifts by resource.
type drifts struct {
	mu       sync.Mutex
	open     map[string]Detected
	detected []Detected
	resolved []Resolved
}

func (d *drifts) detect(m stream.Message[Detected]) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.open[m.Data.Resource] = m.Data
	d.detected = append(d.detected, m.Data)
}

func (d *drifts) resolve(m stream.Message[Resolved]) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.open, m.Data.Resource)
	d.resolved = append(d.resolved, m.Data)
}

// demo runs the feed until the client gives up and returns what it
// observed. run is demo for main; the test reads the Result.
func demo(ctx context.Context, w io.Writer) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &printer{w: w, start: time.Now()}
	s := &server{every: 50 * time.Millisecond, out: out, gone: make(chan struct{})}
	srv := tethertest.NewWSServer(tethertest.WithHandler(s.serve))
	defer srv.Close()
	out.printf("server", "listening on %s", srv.URL)

	// Routing: "detected" to a handler on the reader, "resolved" to a typed
	// stream. Subscribe before connecting, so no message is published to
	// nobody.
	state := &drifts{open: map[string]Detected{}}
	router := stream.NewRouter()
	defer router.Close()
	stream.Handle(router, "detected", func(m stream.Message[Detected]) {
		state.detect(m)
		out.printf("detected", "%s: %s is %s, declared %s", m.Data.Resource, m.Data.Field, m.Data.Actual, m.Data.Expected)
	})
	resolved := stream.Route[Resolved](router, "resolved").Subscribe(ctx, stream.WithOverflow(stream.Block))
	var consumer sync.WaitGroup
	consumer.Go(func() {
		for m := range resolved.All() { // ends when the router closes
			state.resolve(m)
			out.printf("resolved", "%s, by %s", m.Data.Resource, m.Data.By)
		}
	})

	// Three reconnect attempts, 100 ms, 200 ms and 400 ms after the loss
	// (no jitter, so the run is the same every time), then stop.
	reconnect, err := policy.New(
		policy.Exponential{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: policy.JitterNone},
		policy.WithMaxAttempts(3),
	)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	closed := make(chan fsm.Transition, 1)
	c, err := tether.New[stream.Envelope](srv.URL,
		tether.WithRouter(router),
		tether.WithReconnect(reconnect),
		tether.OnTransition(func(tr fsm.Transition) { out.printf("transition", "%s", tr) }),
		tether.OnRetry(func(r tether.Retry) {
			res.Retries = append(res.Retries, r) // callbacks run one at a time
			out.printf("backoff", "attempt %d in %s", r.Attempt, r.Delay)
		}),
		tether.OnDone(func(tr fsm.Transition) { closed <- tr }),
	)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Close(context.Background()) }()

	// The server sends its script, says it is going away, and then goes
	// away for good.
	select {
	case <-s.gone:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the server's script: %w", ctx.Err())
	}
	out.printf("server", "shut down")
	srv.Close()

	// The client retries, then gives up by itself.
	select {
	case res.GiveUp = <-closed:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the client to give up: %w", ctx.Err())
	}
	res.Final = c.State()
	res.ConnectErr = c.Connect(ctx) // the cause, since the client is Closed
	if err := c.Close(ctx); err != nil {
		return nil, err
	}
	<-c.Done() // the last callbacks have run
	router.Close()
	consumer.Wait()

	state.mu.Lock()
	res.Detected, res.Resolved = state.detected, state.resolved
	for _, k := range slices.Sorted(maps.Keys(state.open)) {
		res.Open = append(res.Open, state.open[k])
	}
	state.mu.Unlock()

	fmt.Fprintf(w, "\nThe client gave up:\n")
	fmt.Fprintf(w, "  transition   %s --%s--> %s\n", res.GiveUp.From, res.GiveUp.Event, res.GiveUp.To)
	var stop *policy.StopError
	if errors.As(res.GiveUp.Cause, &stop) {
		fmt.Fprintf(w, "  cause        *policy.StopError: rule %s, attempt %d refused after %s\n",
			stop.Rule, stop.Attempt, stop.Elapsed.Round(10*time.Millisecond))
		fmt.Fprintf(w, "  attempts exhausted: %t\n", errors.Is(res.GiveUp.Cause, policy.ErrAttemptsExhausted))
		fmt.Fprintf(w, "  last error   %v\n", stop.Err)
	}
	fmt.Fprintf(w, "  final state  %s (status %s)\n", res.Final, c.Status())
	fmt.Fprintf(w, "  Connect now  %v\n", res.ConnectErr)
	fmt.Fprintf(w, "Drifts still open when the feed was lost:\n")
	for _, d := range res.Open {
		fmt.Fprintf(w, "  %s  %s is %s, declared %s\n", d.Resource, d.Field, d.Actual, d.Expected)
	}
	return res, nil
}
