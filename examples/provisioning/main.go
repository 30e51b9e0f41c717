// Command provisioning shows per-job status streams over one tether
// connection: the client asks the server to provision three jobs, and
// watches each job on a stream of its own that ends when the job reaches a
// terminal status (succeeded or failed).
//
//	go run ./examples/provisioning
//
// The program starts its own WebSocket server on a loopback port. For each
// request {job, template} the server sends the job's updates {job, status,
// progress, detail}: queued, running with progress, then succeeded, or
// failed for the postgres template. The three jobs run at once, so their
// updates interleave on the connection; each job's stream is a filtered
// subscription of its own (jobStream), made before the request is sent so
// that no update can be missed. The program prints the updates as they
// come, then each job's status history.
//
// It finishes by itself in a few seconds.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/tethertest"
)

// requests are the jobs the program provisions.
var requests = []Provision{
	{Job: "web-1", Template: "nginx"},
	{Job: "db-1", Template: "postgres"},
	{Job: "cache-1", Template: "redis"},
}

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

// History is one job's stream, as received.
type History struct {
	Job     string
	Updates []Update
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

// demo provisions the jobs against the embedded server and returns each
// job's history, in the order of requests. run is demo for main; the test
// reads the histories.
func demo(ctx context.Context, w io.Writer) ([]History, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the job streams on every return path
	out := &printer{w: w, start: time.Now()}
	srv := tethertest.NewWSServer(tethertest.WithHandler(serve))
	defer srv.Close()
	out.printf("server", "listening on %s", srv.URL)

	c, err := tether.New[Update](srv.URL,
		tether.OnTransition(func(tr fsm.Transition) { out.printf("transition", "%s", tr) }),
	)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Close(context.Background()) }()

	histories := make([]History, len(requests))
	var watchers sync.WaitGroup
	for i, req := range requests {
		updates := jobStream(ctx, c, req.Job) // subscribe first...
		// ...then ask. Sent while connecting, the request waits in the
		// outbound buffer and goes out once the connection is open.
		if err := c.Send(ctx, req); err != nil {
			return nil, err
		}
		out.printf("client", "provision %s (%s)", req.Job, req.Template)
		histories[i].Job = req.Job
		watchers.Go(func() {
			for u := range updates {
				histories[i].Updates = append(histories[i].Updates, u)
				out.printf(req.Job, "%s", describe(u))
			}
			out.printf(req.Job, "stream ended")
		})
	}
	watchers.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("waiting for the jobs: %w", err)
	}

	out.printf("client", "every job is over: closing")
	if err := c.Close(ctx); err != nil {
		return nil, err
	}
	<-c.Done() // the last callbacks have run
	fmt.Fprintf(w, "\nStatus history per job:\n")
	for _, h := range histories {
		steps := make([]string, len(h.Updates))
		for i, u := range h.Updates {
			steps[i] = describe(u)
		}
		fmt.Fprintf(w, "  %-8s %s\n", h.Job, strings.Join(steps, " -> "))
	}
	return histories, nil
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
