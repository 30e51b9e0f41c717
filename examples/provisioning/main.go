// Command provisioning shows one subscription per job over one tether
// connection, in the envelope convention of package rpc/envelope: the
// client provisions three jobs and watches each through a subscription of
// its own (package rpc), which it leaves when the job reaches a terminal
// status (succeeded or failed). Midway the server drops the connection;
// the subscriptions are made again before the connection is ready, and no
// update is lost or kept twice.
//
//	go run ./examples/provisioning
//
// The program starts its own WebSocket server on a loopback port. For
// each job the client subscribes to the topic "jobs/<job>", then sends the
// request "provision" {job, template}; the server answers both by id, then
// sends the job's updates on its topic, {job, seq, status, progress,
// detail}: queued, running with progress, then succeeded, or failed for
// the postgres template. The jobs run at once, so their updates interleave
// on the connection. After db-1's "running 20%" the server drops the
// connection, once: the jobs go on, the client reconnects, and in the
// Resubscribing stage, before Open, each live subscription is made again;
// the server answers it with the job's updates so far, then the new ones,
// and the watcher keeps those it has not seen (by seq). When a job's
// terminal update comes, its watcher leaves the subscription and the
// client sends "unsubscribe", which the server answers. The program prints
// the updates as they come, then each job's status history and its
// subscription's states.
//
// It finishes by itself in under a second.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/rpc/envelope"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
)

// requests are the jobs the program provisions.
var requests = []Provision{
	{Job: "web-1", Template: "nginx"},
	{Job: "db-1", Template: "postgres"},
	{Job: "cache-1", Template: "redis"},
}

// reconnectAfter is the pause before the reconnect: the jobs go on
// meanwhile, so the client comes back to updates it has not seen.
const reconnectAfter = 100 * time.Millisecond

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "provisioning:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	_, err := demo(ctx, w)
	return err
}

// Watch is what the program saw of one job.
type Watch struct {
	Job string
	// Updates is the job's history as the watcher kept it: each update
	// once, in order of Seq.
	Updates []Update
	// Replayed counts the updates received again, after the reconnect,
	// and skipped.
	Replayed int
	// After is what the subscription delivered after the terminal update:
	// nothing.
	After []Update
	// Sub is the trace of the job's subscription, to its end.
	Sub []rpc.SubTransition
	// Server is the job's history as the server recorded it.
	Server []Update
}

// Result is what demo observed.
type Result struct {
	Jobs []Watch // in the order of requests
	// Trace is the tether client's transitions.
	Trace []fsm.Transition
	// Stray is what reached the tether client's own stream: a message no
	// request or live subscription claimed. Nothing.
	Stray []json.RawMessage
}

// printer writes timestamped lines; the job watchers share it.
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

// demo provisions the jobs against the embedded server and returns what
// it saw. run is demo for main; the test reads the result.
func demo(ctx context.Context, w io.Writer) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the subscriptions on every return path
	out := &printer{w: w, start: time.Now()}
	srvBoard := newBoard(out.printf)
	defer srvBoard.close()
	srv := tethertest.NewWSServer(tethertest.WithHandler(srvBoard.serve))
	defer srv.Close()
	out.printf("server", "listening on %s", srv.URL)

	retry, err := policy.New(policy.Constant(reconnectAfter))
	if err != nil {
		return nil, err
	}
	rc := rpc.New(envelope.New())
	tc, err := tether.New[json.RawMessage](srv.URL, append(rc.Options(),
		tether.WithReconnect(retry),
		tether.OnTransition(func(tr fsm.Transition) { out.printf("transition", "%s", tr) }),
	)...)
	if err != nil {
		return nil, err
	}
	rc.Bind(tc)
	defer rc.Close()
	defer func() { _ = tc.Close(context.Background()) }()

	// Anything no request or subscription claims flows on to here.
	stray := tc.Messages(ctx)
	var strays []json.RawMessage
	var collector sync.WaitGroup
	collector.Go(func() {
		for m := range stray.All() {
			strays = append(strays, m)
		}
	})
	defer func() { stray.Close(); collector.Wait() }()

	res := &Result{Jobs: make([]Watch, len(requests))}
	subs := make([]*rpc.Subscription[Update], len(requests))
	var watchers sync.WaitGroup
	for i, req := range requests {
		// Subscribe first, then provision: no update can come before the
		// subscription. Both wait for the connection to be ready.
		sub, err := rpc.SubscribeTo[Update](ctx, rc, Topic(req.Job), nil,
			stream.WithOverflow(stream.Block), stream.WithName("job "+req.Job))
		if err != nil {
			return nil, fmt.Errorf("subscribing to %s: %w", Topic(req.Job), err)
		}
		subs[i] = sub
		out.printf("client", "subscribed to %s", sub.Topic())
		p, err := rpc.Call[Provisioned](ctx, rc, TypeProvision, req, rpc.Idempotent())
		if err != nil {
			return nil, fmt.Errorf("provisioning %s: %w", req.Job, err)
		}
		out.printf("client", "provision %s (%s): started %t", p.Job, req.Template, p.Started)
		res.Jobs[i].Job = req.Job
		watchers.Go(func() { watch(ctx, tc, sub, &res.Jobs[i], out) })
	}
	watchers.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("waiting for the jobs: %w", err)
	}

	// Every watcher has left its subscription. Once the server has
	// answered every unsubscribe, a last request: its reply comes after
	// those answers, so the unsubscribes are over when it is back.
	if err := srvBoard.unwatched(ctx); err != nil {
		return nil, fmt.Errorf("waiting for the unsubscribes: %w", err)
	}
	last, err := rpc.Call[[]Update](ctx, rc, TypeJobs, nil)
	if err != nil {
		return nil, fmt.Errorf("asking for the jobs: %w", err)
	}
	out.printf("server", "%d jobs, no subscription left", len(last))

	out.printf("client", "every job is over: closing")
	if err := rc.Close(); err != nil { // waits for the unsubscribes to settle
		return nil, err
	}
	if err := tc.Close(ctx); err != nil {
		return nil, err
	}
	<-tc.Done() // the last callbacks have run
	stray.Close()
	collector.Wait()
	res.Stray = strays
	res.Trace = tc.Trace()
	for i, sub := range subs {
		res.Jobs[i].Sub = sub.Trace()
		j := srvBoard.job(res.Jobs[i].Job)
		j.mu.Lock()
		res.Jobs[i].Server = append([]Update(nil), j.history...)
		j.mu.Unlock()
	}

	fmt.Fprintf(w, "\nStatus history per job:\n")
	for _, h := range res.Jobs {
		steps := make([]string, len(h.Updates))
		for i, u := range h.Updates {
			steps[i] = describe(u)
		}
		fmt.Fprintf(w, "  %-8s %s\n", h.Job, strings.Join(steps, " -> "))
	}
	fmt.Fprintf(w, "\nSubscription per job:\n")
	for _, h := range res.Jobs {
		fmt.Fprintf(w, "  %-8s %s\n", h.Job, subPath(h.Sub))
	}
	return res, nil
}

// watch reads one job's subscription: it keeps each update it has not
// seen (a subscribe is answered with the job's updates so far, so after a
// reconnect some come again), and at the terminal one leaves the
// subscription, once the connection is ready. What the subscription
// still delivers after that goes to After.
func watch(ctx context.Context, tc *tether.Client[json.RawMessage], sub *rpc.Subscription[Update], h *Watch, out *printer) {
	over := false
	for u := range sub.All() {
		switch {
		case over:
			h.After = append(h.After, u)
		case u.Seq <= len(h.Updates):
			h.Replayed++
			out.printf(h.Job, "%s again (seq %d): skipped", describe(u), u.Seq)
		default:
			h.Updates = append(h.Updates, u)
			out.printf(h.Job, "%s", describe(u))
			if u.Status.Terminal() {
				over = true
				_ = ready(ctx, tc) // ends with ctx at worst
				sub.Close()        // unsubscribe
				out.printf(h.Job, "unsubscribing from %s", sub.Topic())
			}
		}
	}
}

// describe formats an update: "running 40%", "failed (quota exceeded)".
func describe(u Update) string {
	switch {
	case u.Status == Running:
		return fmt.Sprintf("running %d%%", u.Progress)
	case u.Detail != "":
		return fmt.Sprintf("%s (%s)", u.Status, u.Detail)
	}
	return string(u.Status)
}

// subPath formats a subscription's trace as its states, with the
// connection each Subscribed was made on, from 1.
func subPath(trace []rpc.SubTransition) string {
	steps := make([]string, 0, len(trace))
	for _, tr := range trace {
		s := tr.To.String()
		if tr.To == rpc.Subscribed {
			s += fmt.Sprintf(" (connection %d)", tr.Attempt+1)
		}
		steps = append(steps, s)
	}
	return strings.Join(steps, " -> ")
}
