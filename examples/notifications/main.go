// Command notifications shows an Rx pipeline over a tether client: a
// notification feed whose server delivers at least once (so some
// notifications arrive twice) goes through Distinct, which drops the
// repeats by notification ID, and BufferWithTime, which groups what arrives
// within 200 ms into one batch, as a notification centre would render it.
//
//	go run ./examples/notifications
//
// The program starts its own WebSocket server on a loopback port. The
// server resends one notification at once, drops the connection, replays
// three notifications on the next connection, and at the end closes
// normally (1000) to say the feed is complete. The client reconnects after
// the drop, and its reconnect policy treats 1000 as final for this feed, so
// the client closes by itself at the end; closing the client completes the
// pipeline, which flushes its last batch.
//
// It finishes by itself in a few seconds.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reactivex/rxgo/v2"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/rx"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "notifications:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	_, err := demo(ctx, w)
	return err
}

// Result is what the program observed.
type Result struct {
	// Batches are the pipeline's output, in order.
	Batches [][]Notification
	// Received counts every notification the client received, repeats
	// included.
	Received int
	// End is the transition to Closed that ended the feed.
	End fsm.Transition
}

// printer writes timestamped lines; the pipeline, callbacks and the server
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

// demo runs the feed against the embedded server and returns what it
// observed. run is demo for main; the test reads the Result.
func demo(ctx context.Context, w io.Writer) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // frees the pipeline's subscriber on every return path
	out := &printer{w: w, start: time.Now()}
	srv := tethertest.NewWSServer(tethertest.WithHandler((&server{every: 30 * time.Millisecond, out: out, sent: map[string]bool{}}).serve))
	defer srv.Close()
	out.printf("server", "listening on %s", srv.URL)

	// This feed's server closes with 1000 when it has nothing more to send,
	// so a normal closure is final here (Phoenix's rule); every other close
	// code keeps the default rules.
	reconnect, err := policy.New(
		policy.Exponential{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: policy.JitterNone},
		policy.WithCloseRules(policy.DefaultCloseRules().With(transport.StatusNormalClosure, transport.StatusNormalClosure,
			policy.Rule{Action: policy.Terminal})),
	)
	if err != nil {
		return nil, err
	}
	var received atomic.Int32
	ended := make(chan fsm.Transition, 1)
	c, err := tether.New[Notification](srv.URL,
		tether.WithReconnect(reconnect),
		tether.OnMessage(func(Notification) { received.Add(1) }),
		tether.OnTransition(func(tr fsm.Transition) { out.printf("transition", "%s", tr) }),
		tether.OnDone(func(tr fsm.Transition) { ended <- tr }),
	)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Close(context.Background()) }()

	// The pipeline: its own subscriber (Block: a notification is never
	// dropped for being slow), repeats removed by ID, batches of 200 ms.
	batches := rx.Messages(ctx, c, stream.WithOverflow(stream.Block), stream.WithName("notification-centre")).
		Distinct(func(_ context.Context, v any) (any, error) { return v.(Notification).ID, nil }).
		BufferWithTime(rxgo.WithDuration(200 * time.Millisecond))

	res := &Result{}
	var pipe sync.WaitGroup
	var pipeErr error
	pipe.Go(func() {
		for item := range batches.Observe() {
			if item.Error() {
				pipeErr = item.E
				continue
			}
			var batch []Notification
			var ids []string
			for _, v := range item.V.([]any) {
				n := v.(Notification)
				batch = append(batch, n)
				ids = append(ids, n.ID)
			}
			res.Batches = append(res.Batches, batch)
			out.printf("batch", "%d: %d new: %s", len(res.Batches), len(batch), strings.Join(ids, ", "))
		}
	})

	// The feed is complete when the client closes by itself.
	select {
	case res.End = <-ended:
	case <-ctx.Done():
		err = ctx.Err()
	}
	// The client's own shutdown ends its streams, as Close does: the
	// pipeline completes and flushes its last batch. Close waits for that
	// shutdown (it starts no other).
	if cerr := c.Close(ctx); err == nil {
		err = cerr
	}
	<-c.Done() // the last callbacks have run
	pipe.Wait()
	if err = errors.Join(err, pipeErr); err != nil {
		return nil, err
	}
	res.Received = int(received.Load())

	unique := 0
	for _, b := range res.Batches {
		unique += len(b)
	}
	fmt.Fprintf(w, "\n%d notifications received, %d repeats dropped, %d unique in %d batches:\n",
		res.Received, res.Received-unique, unique, len(res.Batches))
	for i, b := range res.Batches {
		fmt.Fprintf(w, "  batch %d\n", i+1)
		for _, n := range b {
			fmt.Fprintf(w, "    %s  %-8s %s\n", n.ID, n.Kind, n.Title)
		}
	}
	if stop, ok := errors.AsType[*policy.StopError](res.End.Cause); ok {
		fmt.Fprintf(w, "The feed ended: %s rule, close code %d.\n", stop.Rule, stop.CloseCode)
	}
	return res, nil
}
