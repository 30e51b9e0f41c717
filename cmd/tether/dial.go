package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// closeTimeout bounds the close handshake and shutdown at the end of dial
// and trace (the transport bounds the handshake itself to 5 s).
const closeTimeout = 10 * time.Second

// drainPoll is how often dial checks, after stdin ended, whether the lines
// still queued in the outbound buffer have gone out. The client has no
// event for that.
const drainPoll = 20 * time.Millisecond

func dialCommand() *command {
	return &command{
		name:     "dial",
		synopsis: "dial [flags] URL",
		summary:  "connect, print messages and transitions, send stdin lines",
		detail: `Dial connects to the WebSocket URL and stays connected, reconnecting under
the -reconnect policy, until standard input ends, an interrupt (SIGINT or
SIGTERM) arrives, or the policy gives up.

Every message received is printed on standard output, each on its own line:
text as it is, line breaks included (indented with -pretty when it is JSON),
binary in base64. Transitions,
scheduled retries and dropped messages are printed on standard error, such as
  [transition] #2 Connecting --dialed--> Open (websocket)
Output never holds the connection up: when standard output does not keep up
(a pipe nobody reads), messages beyond an 8 MiB queue are not printed, and
their number is reported on standard error as [skipped].

Every line of standard input (-stdin, the default) is sent as a text message;
empty lines are skipped. Lines read while disconnected wait in the outbound
buffer and go out after the next open. At the end of standard input, dial
waits for them to go out, closes with the close handshake (1000), printing
what the server sends before it answers, and exits 0.
An interrupt also closes cleanly and exits 0; a policy that gives up exits 1.`,
		setup: func() (*flag.FlagSet, execFunc) {
			fs := flag.NewFlagSet("dial", flag.ContinueOnError)
			var cf connFlags
			cf.register(fs)
			pretty := fs.Bool("pretty", false, "indent JSON messages")
			useStdin := fs.Bool("stdin", true, "send standard input, line by line, and close at its end;\n-stdin=false ignores it and runs until interrupted")
			return fs, func(ctx context.Context, args []string, e *env) error {
				target, err := oneURL(args)
				if err != nil {
					return err
				}
				opts, err := cf.options()
				if err != nil {
					return err
				}
				e.stderr.hideSecrets(hider(cf.secrets(target)))
				d := &dialer{e: e, pretty: *pretty, stdin: *useStdin}
				return d.run(ctx, target, opts)
			}
		},
	}
}

// dialer is one run of tether dial.
type dialer struct {
	e      *env
	pretty bool
	stdin  bool
	c      *tether.Client[transport.Message]
	ev     *events

	printed atomic.Uint64 // messages handed to the printer (see settle)
}

func (d *dialer) run(ctx context.Context, target string, opts []tether.Option) (err error) {
	d.ev = newEvents(d.e.stderr)
	opts = append(opts, d.ev.options()...)
	// Room in the outbound buffer for the longest line and then some, so
	// that any line read while the connection is down can wait for it
	// (the default 4 MiB refused a longer line outright).
	opts = append(opts, tether.WithAutoConnect(false),
		tether.WithSendBuffer(adapters.DefaultMaxQueued, sendBufferBytes, stream.Block))
	d.c, err = tether.New[transport.Message](target, opts...)
	if err != nil {
		if errors.As(err, new(*tether.OptionError)) {
			return &usageError{err: err}
		}
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait() // the printer and Connect end once the client is closed

	// Subscribe before connecting, so no message is missed. Block loses
	// nothing and costs nothing: the printer only formats and queues. A
	// standard output that does not keep up loses messages in its queue
	// instead, counted and reported, so the connection (its heartbeat
	// among the rest) never waits for it. The subscription ends when the
	// client shuts down.
	msgs := d.c.Messages(context.WithoutCancel(ctx), stream.WithOverflow(stream.Block))
	wg.Go(func() { printMessages(d.e.stdout, msgs.C(), d.pretty, &d.printed) })
	wg.Go(func() { _ = d.c.Connect(ctx) }) // the outcome arrives as transitions
	d.c.WaitForStateChange(ctx, fsm.Idle)  // Connect has started: a close now is a real one

	lines := make(chan string)
	stdinDone := make(chan error, 1)
	if d.stdin {
		stop := make(chan struct{})
		defer close(stop)
		go readLines(d.e.stdin, lines, stdinDone, stop) // may outlive run while stdin blocks
	}

	defer func() {
		if cerr := d.close(ctx); err == nil {
			err = cerr
		}
	}()
	for n := 1; ; {
		select {
		case line := <-lines:
			d.send(ctx, n, line)
			n++
		case rerr := <-stdinDone:
			if rerr != nil {
				return fmt.Errorf("reading standard input: %w", rerr)
			}
			if err := d.drain(ctx); err != nil || ctx.Err() != nil {
				return err
			}
			return d.disconnect(ctx)
		case t := <-d.ev.closed:
			return gaveUp(t)
		case <-d.e.stdout.failed:
			return fmt.Errorf("writing standard output: %w", d.e.stdout.failure())
		case <-ctx.Done():
			return nil
		}
	}
}

// send sends line n of standard input as a text message.
func (d *dialer) send(ctx context.Context, n int, line string) {
	switch {
	case line == "":
		return
	case !utf8.ValidString(line):
		fmt.Fprintf(d.e.stderr, "[error] stdin line %d is not valid UTF-8: not sent\n", n)
		return
	}
	err := d.c.Send(ctx, line)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		// An interrupt while Send waited (for room, for a confirmation):
		// the line was not accepted.
		fmt.Fprintf(d.e.stderr, "[error] stdin line %d not sent: interrupted\n", n)
	case errors.Is(err, tether.ErrClosed):
		// the policy gave up: the main loop learns it from ev.closed
	case errors.Is(err, tether.ErrPossiblyLost):
		// Written while the connection failed: it may have arrived.
		fmt.Fprintf(d.e.stderr, "[error] stdin line %d may not have arrived: %v\n", n, err)
	default:
		fmt.Fprintf(d.e.stderr, "[error] stdin line %d not sent: %v\n", n, err)
	}
}

// drain waits, after standard input ended, until nothing is left in the
// outbound buffer: at once when it is empty, otherwise until the connection
// is open again and the buffer has gone out. An interrupt cuts it short; a
// give-up ends it with the cause.
func (d *dialer) drain(ctx context.Context) error {
	var tick *time.Ticker
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	for {
		if n, _ := d.c.Buffered(); n == 0 {
			if d.c.State() == fsm.Closed {
				// Emptied by the give-up, which dropped the lines.
				return gaveUp(<-d.ev.closed)
			}
			return nil
		}
		st := d.c.State()
		if st != fsm.Open {
			if st == fsm.Closed {
				return gaveUp(<-d.ev.closed)
			}
			d.c.WaitForStateChange(ctx, st)
		} else {
			if tick == nil {
				tick = time.NewTicker(drainPoll)
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// disconnect runs the close handshake at the end of standard input with
// Disconnect, not Close: what the server sends before it answers (the
// replies to the last lines) still reaches the printer, which Close would
// drop. Bounded by closeTimeout; close then ends the client.
func (d *dialer) disconnect(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, closeTimeout)
	defer cancel()
	if err := d.c.Disconnect(cctx); err != nil && ctx.Err() == nil {
		if errors.Is(err, tether.ErrClosed) {
			return gaveUp(<-d.ev.closed) // the policy gave up meanwhile
		}
		return fmt.Errorf("closing: %w", err)
	}
	d.settle(cctx)
	return nil
}

// settle waits, after Disconnect, until every message the connection's
// reader read has reached the printer: Disconnect returns once the close
// handshake is over, and the reader may still be handing over what the
// server sent before its answer, which the Close that follows would drop.
// The client has no event for that: settle polls until the printer's count
// has caught up with Stats().MessagesIn and neither moved for one poll,
// bounded by ctx.
func (d *dialer) settle(ctx context.Context) {
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	last := ^uint64(0)
	for {
		in := d.c.Stats().MessagesIn
		if in == d.printed.Load() && in == last {
			return
		}
		last = in
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// close closes the client, with the close handshake when it is open, and
// waits for the shutdown, bounded by closeTimeout even after an interrupt.
func (d *dialer) close(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	if err := d.c.Close(cctx); err != nil {
		return fmt.Errorf("closing: %w", err)
	}
	// The last callbacks (the final transition lines) run until Done.
	select {
	case <-d.c.Done():
		return nil
	case <-cctx.Done():
		return fmt.Errorf("closing: %w", cctx.Err())
	}
}
