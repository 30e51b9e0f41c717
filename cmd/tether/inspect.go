package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/inspect"
)

// defaultListen is where inspect serves its page when -listen is not
// given: the loopback interface, on a port the system picks.
const defaultListen = "127.0.0.1:0"

func inspectCommand() *command {
	return &command{
		name:     "inspect",
		synopsis: "inspect [flags] URL",
		summary:  "connect, and show the connection live on a web page",
		detail: `Inspect connects to the WebSocket URL, keeps the connection (reconnecting
under the -reconnect policy) and serves the inspector page on -listen: the
lifecycle diagram with the current state highlighted, the timeline of
transitions with their causes, the reconnect ahead, and the heartbeat round
trip, traffic, drop and reconnect counters, updated live. Standard error says
where to open it, as
  [inspect] open http://127.0.0.1:40123/ in a browser
and prints the transitions as they happen. Messages received are counted,
not printed. The URL is shown redacted. It runs until an interrupt (SIGINT
or SIGTERM), which closes the connection cleanly and exits 0, or until the
policy gives up, which exits 1.`,
		setup: func() (*flag.FlagSet, execFunc) {
			fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
			var cf connFlags
			cf.register(fs)
			listen := fs.String("listen", defaultListen, "serve the page on this `address` (host:port; port 0 picks one)")
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
				return inspectRun(ctx, target, opts, *listen, e)
			}
		},
	}
}

func inspectRun(ctx context.Context, target string, opts []tether.Option, listen string, e *env) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		// Not the address: a value typed in the wrong place may be a secret.
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return usagef("invalid value for flag -listen: %s", ae.Err)
		}
		if oe, ok := errors.AsType[*net.OpError](err); ok {
			err = oe.Err
		}
		return fmt.Errorf("cannot serve the page on -listen: %w", err)
	}
	ev := newEvents(e.stderr)
	opts = append(opts, ev.options()...)
	// Messages are counted by the client, not printed: nothing consumes
	// them, so none are held for a consumer, nor reported dropped at the
	// end.
	opts = append(opts, tether.WithHold(0))
	// Connected below, once standard error says where the page is: its
	// first line, before any transition.
	opts = append(opts, tether.WithAutoConnect(false))
	c, err := tether.New[[]byte](target, opts...)
	if err != nil {
		_ = ln.Close()
		if errors.As(err, new(*tether.OptionError)) {
			return &usageError{err: err}
		}
		return err
	}
	in := inspect.New(inspect.WithTitle("tether inspect"))
	in.Add(target, c) // redacted by the inspector
	srv := &http.Server{Handler: in, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(e.stderr, "[inspect] open %s in a browser\n", pageURL(ln.Addr()))
	// Connect waits for Open; the transitions and the policy giving up are
	// heard through the callbacks.
	connecting, stopConnecting := context.WithCancel(context.WithoutCancel(ctx))
	connected := make(chan struct{})
	go func() {
		defer close(connected)
		_ = c.Connect(connecting)
	}()
	defer func() {
		stopConnecting()
		<-connected
	}()

	var result error
	select {
	case <-ctx.Done():
	case t := <-ev.closed:
		result = gaveUp(t)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	if err := c.Close(cctx); err != nil && result == nil {
		result = fmt.Errorf("closing: %w", err)
	}
	// Open pages hold their event streams: Close ends them, Shutdown would
	// wait for them.
	_ = srv.Close()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) && result == nil {
		result = fmt.Errorf("serving the page: %w", err)
	}
	select { // the last transition lines are printed by callbacks, until Done
	case <-c.Done():
	case <-cctx.Done():
	}
	return result
}

// pageURL is the address of the page served on addr, as a browser on this
// machine opens it: a listener on every interface (-listen :0, 0.0.0.0 or
// [::]) is reached through localhost.
func pageURL(addr net.Addr) string {
	a, ok := addr.(*net.TCPAddr)
	if !ok || !a.IP.IsUnspecified() {
		return "http://" + addr.String() + "/"
	}
	return "http://" + net.JoinHostPort("localhost", strconv.Itoa(a.Port)) + "/"
}
