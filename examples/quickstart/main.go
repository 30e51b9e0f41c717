// Command quickstart shows a tether connection live, against a WebSocket
// server it starts on a loopback port: the client connects and receives typed
// readings, the server drops the connection without a close frame, the client
// backs off and reconnects, the heartbeat reports its round trip, and at the
// end the program prints the Mermaid trace of everything that happened.
//
//	go run ./examples/quickstart
//
// It finishes by itself in a few seconds. With -inspect, it also serves the
// inspector page (package inspect) on -listen and says where to open it:
// the page shows the session live, and once the scripted part is over the
// connection stays open, the readings keep coming, and the page stays up
// until an interrupt (Ctrl-C).
//
//	go run ./examples/quickstart -inspect
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/inspect"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// Reading is the typed message the server sends.
type Reading struct {
	Sensor string  `json:"sensor"`
	Value  float64 `json:"value"`
	Seq    int     `json:"seq"`
}

func main() {
	inspectFlag := flag.Bool("inspect", false, "serve the inspector page while the session runs, and keep it up until Ctrl-C")
	listen := flag.String("listen", "127.0.0.1:0", "with -inspect, serve the page on this `address` (port 0 picks one)")
	flag.Parse()
	var err error
	if *inspectFlag {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		err = runInspect(ctx, os.Stdout, *listen)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = run(ctx, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// runInspect is run with the inspector page served on listen, until ctx
// ends.
func runInspect(ctx context.Context, w io.Writer, listen string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	in := inspect.New(inspect.WithTitle("tether quickstart"))
	srv := &http.Server{Handler: in, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(w, "Inspector: open http://%s/ in a browser (Ctrl-C ends the program)\n\n", ln.Addr())
	err = session(ctx, w, in)
	_ = srv.Close() // open pages hold their event streams: end them
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// feed is the embedded server's script: it sends a reading every 100 ms;
// on the first connection it drops the socket after the third reading.
type feed struct {
	conns atomic.Int32
	seq   atomic.Int32
	out   *printer
}

func (f *feed) serve(c *tethertest.WSConn) {
	n := f.conns.Add(1)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for sent := 1; ; sent++ {
		select {
		case <-c.Done():
			return
		case <-tick.C:
		}
		r := Reading{Sensor: "cpu", Value: 0.25 * float64(sent), Seq: int(f.seq.Add(1))}
		b, _ := json.Marshal(r)
		if c.Send(transport.Text, b) != nil {
			return
		}
		if n == 1 && sent == 3 {
			f.out.printf("server", "drops connection %d without a close frame", n)
			c.Drop()
			return
		}
	}
}

// printer writes timestamped lines; callbacks and the server share it.
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

func run(ctx context.Context, w io.Writer) error { return session(ctx, w, nil) }

// session runs the scripted session. With an inspector, it shows the client
// on it, and once the script is over keeps the connection until ctx ends.
func session(ctx context.Context, w io.Writer, in *inspect.Inspector) error {
	out := &printer{w: w, start: time.Now()}
	f := &feed{out: out}
	srv := tethertest.NewWSServer(tethertest.WithHandler(f.serve))
	defer srv.Close()
	out.printf("server", "listening on %s", srv.URL)

	backoff, err := policy.New(policy.Exponential{Initial: 300 * time.Millisecond, Max: 2 * time.Second})
	if err != nil {
		return err
	}
	var rtts atomic.Int32
	reopened := make(chan struct{}, 1)
	c, err := tether.New[Reading](srv.URL,
		tether.WithReconnect(backoff),
		tether.WithHeartbeat(policy.Heartbeat{Interval: 250 * time.Millisecond, PongTimeout: 200 * time.Millisecond}),
		tether.OnTransition(func(tr fsm.Transition) { out.printf("transition", "%s", tr) }),
		tether.OnRetry(func(r tether.Retry) {
			out.printf("backoff", "attempt %d in %s", r.Attempt, r.Delay.Round(time.Millisecond))
		}),
		tether.OnOpen(func(tr fsm.Transition) {
			if tr.Attempt > 0 {
				select {
				case reopened <- struct{}{}:
				default:
				}
			}
		}),
		tether.OnRTT(func(d time.Duration) {
			if rtts.Add(1) <= 2 {
				out.printf("heartbeat", "round trip %s", d.Round(time.Microsecond))
			}
		}),
	)
	if err != nil {
		return err
	}
	if in != nil {
		in.Add("quickstart "+srv.URL, c)
	}
	msgs := c.Messages(ctx)

	// Receive until the connection has been dropped and reopened, and the
	// heartbeat has measured two round trips, and three more readings came.
	var afterReconnect int
	waitReopen := reopened
	for done := false; !done; {
		select {
		case r, ok := <-msgs.C():
			if !ok {
				return fmt.Errorf("message stream ended: %v", c.Err())
			}
			out.printf("message", "%s = %.2f (seq %d)", r.Sensor, r.Value, r.Seq)
			if waitReopen == nil {
				afterReconnect++
			}
		case <-waitReopen:
			waitReopen = nil
		case <-ctx.Done():
			return ctx.Err()
		}
		done = waitReopen == nil && afterReconnect >= 3 && rtts.Load() >= 2
	}

	if in != nil {
		out.printf("client", "the script is over; the connection stays open until Ctrl-C")
		for range msgs.C() { // the stream ends with ctx
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
	}
	out.printf("client", "closing")
	if err := c.Close(ctx); err != nil {
		return err
	}
	<-c.Done() // the last callbacks have printed their lines
	fmt.Fprintf(w, "\nWhat happened, as a Mermaid diagram (paste it into https://mermaid.live):\n\n%s", c.TraceMermaid())
	return nil
}
