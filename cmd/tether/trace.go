package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
)

// defaultTraceFor is how long trace records when -for is not given.
const defaultTraceFor = 10 * time.Second

func traceCommand() *command {
	return &command{
		name:     "trace",
		synopsis: "trace [flags] URL",
		summary:  "connect for a while, then print the Mermaid trace of what happened",
		detail: `Trace connects to the WebSocket URL, keeps the connection (reconnecting under
the -reconnect policy) for the -for duration, closes it with the close
handshake, and prints on standard output the Mermaid sequence diagram of the
transitions it went through (the latest 256, with a note of how many came
before). An interrupt (SIGINT or SIGTERM) ends the recording
early; a policy that gives up ends it too, and trace then exits 1 after
printing the diagram. Transitions are also printed on standard error as they
happen. Messages received are not printed.`,
		setup: func() (*flag.FlagSet, execFunc) {
			fs := flag.NewFlagSet("trace", flag.ContinueOnError)
			var cf connFlags
			cf.register(fs)
			dur := fs.Duration("for", defaultTraceFor, "record for this `duration`")
			return fs, func(ctx context.Context, args []string, e *env) error {
				target, err := oneURL(args)
				if err != nil {
					return err
				}
				if *dur <= 0 {
					return usagef("-for %s must be positive", *dur)
				}
				opts, err := cf.options()
				if err != nil {
					return err
				}
				h := hider(cf.secrets(target))
				e.stderr.hideSecrets(h)
				return trace(ctx, target, opts, *dur, e, h)
			}
		},
	}
}

func trace(ctx context.Context, target string, opts []tether.Option, dur time.Duration, e *env, h *strings.Replacer) error {
	ev := newEvents(e.stderr)
	// The trace shows the lifecycle, not the messages: nothing consumes
	// them, so none are held for a consumer (held ones stopped the reading
	// at 256 and were reported dropped at the end).
	opts = append(opts, tether.WithHold(0))
	c, err := tether.New[[]byte](target, append(opts, ev.options()...)...)
	if err != nil {
		if errors.As(err, new(*tether.OptionError)) {
			return &usageError{err: err}
		}
		return err
	}
	timer := time.NewTimer(dur)
	defer timer.Stop()
	var result error
	select {
	case <-timer.C:
	case <-ctx.Done():
	case t := <-ev.closed:
		result = gaveUp(t)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	if err := c.Close(cctx); err != nil && result == nil {
		result = fmt.Errorf("closing: %w", err)
	}
	select { // the last transition lines are printed by callbacks, until Done
	case <-c.Done():
	case <-cctx.Done():
	}
	// Queued: a failure to write it is reported when the program ends.
	_, _ = fmt.Fprint(e.stdout, traceDiagram(c, h))
	return result
}

// traceDiagram is c's Mermaid trace with the command line's secrets hidden
// (h, when not nil) in every cause: before the diagram escapes the causes,
// which would hide them from the output's own hiding.
func traceDiagram(c *tether.Client[[]byte], h *strings.Replacer) string {
	if h == nil {
		return c.TraceMermaid()
	}
	trace := c.Trace()
	for i, t := range trace {
		if t.Cause != nil {
			trace[i].Cause = errors.New(h.Replace(t.Cause.Error()))
		}
	}
	return fsm.TraceMermaid(trace)
}
