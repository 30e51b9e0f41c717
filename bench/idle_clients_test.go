package bench

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	centrifugego "github.com/centrifugal/centrifuge-go"
	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
)

// heartbeat is the probe every idle client runs.
type heartbeat struct {
	interval, pongTimeout time.Duration
}

// idleClient is one client kind in BenchmarkIdle: a long-lived client that
// reconnects and runs a heartbeat, as an application would keep one open.
type idleClient struct {
	name string
	// server is the helper kind it connects to, path the URL path.
	server, path string
	// settle is how long after its connect the client still runs
	// goroutines that are not its steady state; the benchmark measures
	// no earlier.
	settle time.Duration
	// open connects to url and returns once the connection is open.
	open func(ctx context.Context, url string, hb heartbeat, hooks idleHooks) (idleConn, error)
}

// idleHooks are what a client reports to BenchmarkIdle. Both are cheap and
// safe from any goroutine.
type idleHooks struct {
	// onPong is called at every heartbeat round trip.
	onPong func()
	// onReopen is called at every reconnect (every open after the first):
	// a steady idle connection has none.
	onReopen func()
}

// idleConn is one open idle client.
type idleConn interface {
	// close shuts the client down and returns when every goroutine it
	// started has ended.
	close()
}

// idleClients is the table of BenchmarkIdle client kinds.
var idleClients = []idleClient{
	{name: "tether", server: helperWS, path: "/", open: openTetherIdle},
	{name: "gorilla", server: helperWS, path: "/", open: openGorillaIdle},
	{name: "coder", server: helperWS, path: "/", open: openCoderIdle},
	{name: "centrifuge-go", server: helperCentrifuge, path: centrifugePath, open: openCentrifugeIdle, settle: centrifugeSettle},
}

// tether: a Client with its defaults (WebSocket transport, default
// reconnect policy), the benchmark's heartbeat, OnRTT counting round trips
// and OnOpen counting reconnects.

type tetherIdle struct{ c *tether.Client[[]byte] }

func openTetherIdle(ctx context.Context, url string, hb heartbeat, hooks idleHooks) (idleConn, error) {
	return newTetherIdle(ctx, url, hb, hooks)
}

// newTetherIdle opens the Client of openTetherIdle with more options.
func newTetherIdle(ctx context.Context, url string, hb heartbeat, hooks idleHooks, more ...tether.Option) (*tetherIdle, error) {
	var opens atomic.Int64
	c, err := tether.New[[]byte](url, append([]tether.Option{
		tether.WithHeartbeat(policy.Heartbeat{Interval: hb.interval, PongTimeout: hb.pongTimeout}),
		tether.OnRTT(func(time.Duration) { hooks.onPong() }),
		tether.OnOpen(func(fsm.Transition) {
			if opens.Add(1) > 1 {
				hooks.onReopen()
			}
		}),
		tether.WithAutoConnect(false),
	}, more...)...)
	if err != nil {
		return nil, err
	}
	t := &tetherIdle{c: c}
	if err := c.Connect(ctx); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

func (t *tetherIdle) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = t.c.Close(ctx)
}

// backoff is the reconnect delay of the hand-written clients: exponential
// from 1 s by 1.6 up to 30 s with equal jitter, as tether's default.
func backoff(attempt int) time.Duration {
	d := float64(time.Second)
	for range attempt - 1 {
		d *= 1.6
	}
	d = min(d, float64(30*time.Second))
	return time.Duration(d/2 + rand.Float64()*d/2)
}

// reconnector is the reconnect loop shared by the hand-written clients:
// serve the connection until it fails, then dial again with backoff, until
// closed.
type reconnector[C any] struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	dial   func(ctx context.Context) (C, error)
	serve  func(ctx context.Context, c C) // returns when c has failed or ctx ended
	reopen func()                         // called after every successful redial
}

func (r *reconnector[C]) start(c C) {
	r.wg.Go(func() {
		for {
			r.serve(r.ctx, c)
			var err error
			for attempt := 1; ; attempt++ {
				select {
				case <-r.ctx.Done():
					return
				case <-time.After(backoff(attempt)):
				}
				if c, err = r.dial(r.ctx); err == nil {
					break
				}
			}
			r.reopen()
		}
	})
}

func (r *reconnector[C]) close() {
	r.cancel()
	r.wg.Wait()
}

// gorilla: the idiom of gorilla's chat example. The serving goroutine
// reads (a read deadline of interval+pongTimeout, pushed back by every
// pong) and a second goroutine pings every interval with WriteControl.

func openGorillaIdle(ctx context.Context, url string, hb heartbeat, hooks idleHooks) (idleConn, error) {
	d := &gorilla.Dialer{HandshakeTimeout: 10 * time.Second}
	dial := func(ctx context.Context) (*gorilla.Conn, error) {
		c, resp, err := d.DialContext(ctx, url, nil)
		if err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		return c, nil
	}
	c, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &reconnector[*gorilla.Conn]{ctx: rctx, cancel: cancel, dial: dial, reopen: hooks.onReopen}
	r.serve = func(ctx context.Context, c *gorilla.Conn) { serveGorilla(ctx, c, hb, hooks.onPong) }
	r.start(c)
	return r, nil
}

func serveGorilla(ctx context.Context, c *gorilla.Conn, hb heartbeat, onPong func()) {
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	defer c.Close()
	deadline := func() time.Time { return time.Now().Add(hb.interval + hb.pongTimeout) }
	_ = c.SetReadDeadline(deadline())
	c.SetPongHandler(func(string) error {
		onPong()
		return c.SetReadDeadline(deadline())
	})
	done := make(chan struct{})
	var pinger sync.WaitGroup
	defer pinger.Wait()
	defer close(done)
	pinger.Go(func() {
		t := time.NewTicker(hb.interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if c.WriteControl(gorilla.PingMessage, nil, time.Now().Add(hb.pongTimeout)) != nil {
					_ = c.Close()
					return
				}
			}
		}
	})
	for {
		_, r, err := c.NextReader()
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
	}
}

// coder: the serving goroutine reads with Reader (coder handles control
// frames only while a read is pending); a second goroutine calls Ping,
// which waits for the pong, every interval.

// coderHTTP is the one HTTP client every coder connection dials with, as
// an application shares one.
var coderHTTP = &http.Client{Transport: &http.Transport{Proxy: nil}}

func openCoderIdle(ctx context.Context, url string, hb heartbeat, hooks idleHooks) (idleConn, error) {
	dial := func(ctx context.Context) (*coder.Conn, error) {
		c, _, err := coder.Dial(ctx, url, &coder.DialOptions{HTTPClient: coderHTTP})
		return c, err
	}
	c, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &reconnector[*coder.Conn]{ctx: rctx, cancel: cancel, dial: dial, reopen: hooks.onReopen}
	r.serve = func(ctx context.Context, c *coder.Conn) { serveCoder(ctx, c, hb, hooks.onPong) }
	r.start(c)
	return r, nil
}

func serveCoder(ctx context.Context, c *coder.Conn, hb heartbeat, onPong func()) {
	ctx, cancel := context.WithCancel(ctx)
	defer c.CloseNow()
	var pinger sync.WaitGroup
	defer pinger.Wait()
	defer cancel()
	pinger.Go(func() {
		t := time.NewTicker(hb.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				pctx, pcancel := context.WithTimeout(ctx, hb.pongTimeout)
				err := c.Ping(pctx)
				pcancel()
				if err != nil {
					_ = c.CloseNow()
					return
				}
				onPong()
			}
		}
	})
	for {
		_, r, err := c.Reader(ctx)
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
	}
}

// centrifuge-go: a JSON-protocol client with its defaults (reconnect with
// backoff from 200 ms to 20 s, a close when the server's ping is late);
// the heartbeat is the server's ping, which the client answers with a
// pong. centrifuge-go has no hook for it, so the connection is wrapped to
// count the client's writes after the connect reply: on an idle
// connection, each is a pong. The wrapper is 3 words per connection.

type centrifugeIdle struct{ c *centrifugego.Client }

// centrifugeSettle: centrifuge-go keeps a goroutine per request (the
// connect command here) until its ReadTimeout, 5 s by default, has passed,
// even once the reply has arrived.
const centrifugeSettle = 5*time.Second + 500*time.Millisecond

func openCentrifugeIdle(ctx context.Context, endpoint string, _ heartbeat, hooks idleHooks) (idleConn, error) {
	connected := make(chan struct{})
	var (
		once   sync.Once
		isOpen atomic.Bool
		d      net.Dialer
	)
	c := centrifugego.NewJsonClient(endpoint, centrifugego.Config{
		Proxy: func(*http.Request) (*url.URL, error) { return nil, nil },
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &writeWatcher{Conn: nc, open: &isOpen, onWrite: hooks.onPong}, nil
		},
	})
	c.OnConnected(func(centrifugego.ConnectedEvent) {
		if isOpen.Swap(true) {
			hooks.onReopen()
		}
		once.Do(func() { close(connected) })
	})
	c.OnDisconnected(func(centrifugego.DisconnectedEvent) { isOpen.Store(false) })
	ci := &centrifugeIdle{c: c}
	if err := c.Connect(); err != nil {
		ci.close()
		return nil, err
	}
	select {
	case <-connected:
		return ci, nil
	case <-ctx.Done():
		ci.close()
		return nil, ctx.Err()
	}
}

func (ci *centrifugeIdle) close() { ci.c.Close() }

// writeWatcher calls onWrite for every write once open is set.
type writeWatcher struct {
	net.Conn
	open    *atomic.Bool
	onWrite func()
}

func (w *writeWatcher) Write(p []byte) (int, error) {
	if w.open.Load() {
		w.onWrite()
	}
	return w.Conn.Write(p)
}
