package faults

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport/websocket"
)

// The client's settings in every test: a short heartbeat and a fast,
// deterministic reconnect policy, so faults are detected and repaired in
// well under a second.
const (
	hbInterval     = 500 * time.Millisecond
	hbPongTimeout  = 300 * time.Millisecond
	backoffInitial = 100 * time.Millisecond
	backoffMax     = time.Second
	// minUptime: a connection that stayed open this long resets the
	// backoff, so every restart cycle of the soak starts at attempt 1.
	minUptime = 100 * time.Millisecond
	// dialTimeout bounds a dial whose handshake answer was black-holed.
	dialTimeout = 2 * time.Second
	// closeTimeout bounds the close handshake (the transport's default is 5 s).
	closeTimeout = time.Second
)

// tolerance is the slack allowed on top of every stated detection and
// recovery bound: timers that fire late and goroutines that wait for one of
// two loaded CI cores under -race, plus Toxiproxy's own goroutine hops. A
// bound is a sum of the client's settings (above) and this.
const tolerance = time.Second

// deadline bounds every wait of a test; nothing is asserted about how
// much of it is used.
const deadline = 60 * time.Second

// rigOptions sets the traffic of a rig.
type rigOptions struct {
	serverEvery time.Duration // the server sends one message per connection this often (default 20 ms)
	serverPad   int           // bytes of pad in each server message
	clientEvery time.Duration // the client's sender loop sends this often (default 20 ms)
	clientPad   int           // bytes of pad in each client message
	budget      time.Duration // bounds the whole test's waits (default: deadline)
}

// rig is a server behind a Toxiproxy proxy and a tether Client that dials
// the proxy, with a recorder of everything the client reports and a sender
// of sequence-numbered messages. Everything is torn down when the test
// ends, client first.
type rig struct {
	t    *testing.T
	ctx  context.Context
	bell *bell
	srv  *server
	px   *toxicProxy
	c    *tether.Client[wire]
	rec  *recorder
	snd  *sender

	// Set by row faults for their checks.
	burst       burstSpan
	retriesFrom int
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	if o.serverEvery == 0 {
		o.serverEvery = 20 * time.Millisecond
	}
	if o.clientEvery == 0 {
		o.clientEvery = 20 * time.Millisecond
	}
	if o.budget == 0 {
		o.budget = deadline
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.budget)
	t.Cleanup(cancel)
	b := newBell()
	srv := newServer(b, o.serverEvery, o.serverPad)
	t.Cleanup(srv.kill) // cleanups run last-in first-out: the server goes last
	addr := srv.start()
	px := newProxy(t, addr)
	rec := newRecorder(b)
	c := newClient(t, ctx, "ws://"+px.listen+"/", rec)
	snd := newSender(c, b, o.clientEvery, o.clientPad)
	t.Cleanup(snd.halt)
	return &rig{t: t, ctx: ctx, bell: b, srv: srv, px: px, c: c, rec: rec, snd: snd}
}

// newClient builds the client under test for url, subscribes rec to its
// transitions and errors, and closes it when t ends.
func newClient(t *testing.T, ctx context.Context, url string, rec *recorder) *tether.Client[wire] {
	t.Helper()
	tr, err := websocket.New(websocket.WithDialTimeout(dialTimeout), websocket.WithCloseTimeout(closeTimeout))
	require.NoError(t, err)
	pol, err := policy.New(
		policy.Exponential{Initial: backoffInitial, Max: backoffMax, Jitter: policy.JitterNone},
		policy.WithMinUptime(minUptime))
	require.NoError(t, err)
	c, err := tether.New[wire](url,
		tether.WithAutoConnect(false),
		tether.WithTransport(tr),
		tether.WithReconnect(pol),
		tether.WithHeartbeat(policy.Heartbeat{Interval: hbInterval, PongTimeout: hbPongTimeout}),
		tether.WithSendBuffer(1<<14, 16<<20, stream.Block),
		tether.OnMessage(rec.message),
		tether.OnRTT(rec.rtt),
		tether.OnRetry(rec.retry),
	)
	require.NoError(t, err)

	// Big queues: the recorder keeps up, and a drop here would be ours.
	trs := c.Transitions(ctx, stream.WithBuffer(1<<16))
	errs := c.Errors(ctx, stream.WithBuffer(1<<16))
	var wg sync.WaitGroup
	wg.Go(func() {
		for tr := range trs.All() {
			rec.transition(tr)
		}
	})
	wg.Go(func() {
		for err := range errs.All() {
			rec.err(err)
		}
	})
	t.Cleanup(func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		require.NoError(t, c.Close(closeCtx))
		wg.Wait() // both streams end when the client has closed
		require.Zero(t, trs.Dropped(), "transitions lost to the recorder's queue")
		require.Zero(t, errs.Dropped(), "errors lost to the recorder's queue")
	})
	return c
}

// connect connects the client and waits until it is open and the server's
// first message of the connection arrived, so a test starts from a live
// connection.
func (r *rig) connect() {
	r.t.Helper()
	// Counted before Connect: the first message may arrive before Connect
	// returns, and counted after it the wait was for a second connection
	// (TestBlackHoleDetected waited its whole minute so on a loaded box).
	_, conns := r.rec.heardFrom()
	require.NoError(r.t, r.c.Connect(r.ctx))
	require.NoError(r.t, r.bell.until(r.ctx, func() bool { _, n := r.rec.heardFrom(); return n > conns }),
		"no message from the server after connecting")
}

// waitOpenAfter waits for the first transition to Open after Seq after.
func (r *rig) waitOpenAfter(after uint64) fsm.Transition {
	r.t.Helper()
	tr, err := r.rec.waitTransition(r.ctx, after, func(tr fsm.Transition) bool { return tr.To == fsm.Open })
	require.NoError(r.t, err, "the client did not reach Open again; transitions: %s", events(r.rec.transitionsAfter(after)))
	return tr
}

// waitEvent waits for the first transition with event e after Seq after.
func (r *rig) waitEvent(after uint64, e fsm.Event) fsm.Transition {
	r.t.Helper()
	tr, err := r.rec.waitTransition(r.ctx, after, func(tr fsm.Transition) bool { return tr.Event == e })
	require.NoError(r.t, err, "no %s transition; transitions: %s", e, events(r.rec.transitionsAfter(after)))
	return tr
}

// waitRTTs waits until n round trips were measured since t.
func (r *rig) waitRTTs(since time.Time, n int) {
	r.t.Helper()
	require.NoError(r.t, r.bell.until(r.ctx, func() bool { return len(r.rec.rttsSince(since)) >= n }),
		"fewer than %d round trips measured", n)
}

// waitServerMessages waits until n more server messages than now arrived
// at the client.
func (r *rig) waitServerMessages(n int) {
	r.t.Helper()
	have, _ := r.rec.heardFrom()
	require.NoError(r.t, r.bell.until(r.ctx, func() bool { m, _ := r.rec.heardFrom(); return m >= have+n }),
		"fewer than %d server messages arrived", n)
}

// waitClientMessages waits until n more client messages than now arrived
// at the server.
func (r *rig) waitClientMessages(n int) {
	r.t.Helper()
	have, _ := r.srv.received()
	require.NoError(r.t, r.bell.until(r.ctx, func() bool { m, _ := r.srv.received(); return m >= have+n }),
		"fewer than %d client messages arrived at the server", n)
}
