package tether_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// stubbornTransport is a custom transport whose Dial ignores its ctx: it
// returns only when the test hands it a connection.
type stubbornTransport struct {
	entered chan struct{}
	release chan transport.Conn
}

func (t *stubbornTransport) Name() string { return "stubborn" }

func (t *stubbornTransport) Dial(context.Context, transport.Target) (transport.Conn, error) {
	t.entered <- struct{}{}
	return <-t.release, nil
}

// closeRecorder is a connection that only records that it was closed.
type closeRecorder struct {
	transport.Conn
	closed chan struct{}
}

func (c *closeRecorder) Close(transport.StatusCode, string) error {
	close(c.closed)
	return nil
}

// TestConnectTimeoutBoundsEveryTransport: a custom transport's Dial that
// never honours its ctx used to sit in Connecting until Close. The
// client's connect timeout fails the attempt with a typed timeout, the
// policy decides (here: give up), and the connection the Dial returns
// too late is closed, not used. The bound is real time (a network
// deadline), so the test waits for events under a generous deadline.
func TestConnectTimeoutBoundsEveryTransport(t *testing.T) {
	tr := &stubbornTransport{entered: make(chan struct{}, 1), release: make(chan transport.Conn)}
	c, err := tether.New[string]("ws://example.invalid/", tether.WithTransport(tr),
		tether.WithoutHeartbeat(), tether.WithoutReconnect(), tether.WithAutoConnect(false),
		tether.WithConnectTimeout(100*time.Millisecond))
	require.NoError(t, err)
	defer shutDown(t, c)

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	err = c.Connect(ctx)
	recv(t, tr.entered)
	require.ErrorIs(t, err, transport.ErrTimeout)
	var te *transport.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "connect", te.Phase)
	assert.Equal(t, 100*time.Millisecond, te.After)
	assert.Equal(t, fsm.Closed, c.State(), "WithoutReconnect gives up after the failed attempt")

	late := &closeRecorder{closed: make(chan struct{})}
	tr.release <- late
	select {
	case <-late.closed:
	case <-time.After(deadline):
		require.FailNow(t, "the connection returned too late was not closed")
	}
}

// TestConnectTimeoutIsValidated: a connect timeout must be positive.
func TestConnectTimeoutIsValidated(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := tether.New[string]("ws://example.invalid/", tether.WithConnectTimeout(d), tether.WithAutoConnect(false))
		var oe *tether.OptionError
		require.ErrorAs(t, err, &oe, "%v", d)
		assert.Equal(t, "WithConnectTimeout", oe.Option)
	}
}

// pinglessTransport wraps the memory transport so that its connections
// cannot ping, as some custom transports cannot.
type pinglessTransport struct{ transport.Transport }

func (t pinglessTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := t.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return pinglessConn{c}, nil
}

type pinglessConn struct{ transport.Conn }

func (pinglessConn) Ping(context.Context, []byte) error { return transport.ErrUnsupported }

// openProbed opens a client with opts on e's server and waits until its
// heartbeat has armed the first probe. It returns the client, its error
// stream and the server's side of the connection.
func openProbed(e *env, opts ...tether.Option) (*tether.Client[string], *stream.Subscription[error], *memory.ServerConn) {
	e.t.Helper()
	c := client[string](e, opts...)
	errs := c.Errors(context.Background())
	e.t.Cleanup(errs.Close)
	sc := e.accept()
	e.t.Cleanup(func() { sc.Close(transport.StatusNormalClosure, "") })
	waitState(e.t, c, fsm.Open)
	e.waitTimers(1)
	return c, errs, sc
}

// TestHeartbeatOverATransportThatCannotPing: a transport whose Ping says
// ErrUnsupported used to get false heartbeat timeouts on a quiet live
// peer (the Ping error was ignored). The heartbeat now says so once, on
// the error stream, and stops probing that connection, which stays open.
func TestHeartbeatOverATransportThatCannotPing(t *testing.T) {
	e := newEnv(t)
	hb := policy.Heartbeat{Mode: policy.PingFrame, Interval: time.Second, PongTimeout: 500 * time.Millisecond}
	c, errs, _ := openProbed(e, tether.WithTransport(pinglessTransport{e.srv.Transport()}), tether.WithHeartbeat(hb))
	e.clk.Step(time.Second) // the first probe: its Ping fails
	err := recv(t, errs.C())
	require.ErrorIs(t, err, adapters.ErrCannotPing)
	require.ErrorIs(t, err, transport.ErrUnsupported)
	assert.Zero(t, e.clk.Waiters(), "nothing is probed on this connection any more")
	e.clk.Step(time.Minute)
	assert.Equal(t, fsm.Open, c.State(), "a live peer is not declared dead")
	select {
	case err := <-errs.C():
		assert.Fail(t, "one report is enough", "%v", err)
	default:
	}
	if err := c.Err(); err != nil {
		assert.False(t, errors.Is(err, adapters.ErrHeartbeatTimeout), "no heartbeat timeout: %v", err)
	}
}

// TestConnectErrorCarriesTheCause: Connect whose ctx ends used to return a
// bare context error, the cause visible only through Err. It now matches
// both the ctx's error and the latest failure.
func TestConnectErrorCarriesTheCause(t *testing.T) {
	e := newEnv(t)
	e.srv.Script(memoryRefuse(503)) // retried by the default rules
	c := client[string](e, tether.WithAutoConnect(false))
	errs := c.Errors(context.Background())
	defer errs.Close()

	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() { got <- c.Connect(ctx) }()
	first := recv(t, errs.C())
	require.ErrorAs(t, first, new(*tether.TransitionError))
	cancel()

	err := recv(t, got)
	require.ErrorIs(t, err, context.Canceled)
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he, "the latest failure is in the error: %v", err)
	assert.Equal(t, 503, he.StatusCode)
	var ce *tether.ConnectError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, c.Err(), error(ce.Last))
}

// TestCloseDoesNotWaitForADialThatIgnoresItsCtx: a custom transport's Dial
// that ignores its ctx used to hold Close and Done for as long as it
// blocked (forever here). Once the attempt is cancelled the client waits
// for it a short grace only, reports it as abandoned on the error stream,
// and shuts down; the connection the Dial returns later is closed.
func TestCloseDoesNotWaitForADialThatIgnoresItsCtx(t *testing.T) {
	tr := &stubbornTransport{entered: make(chan struct{}, 1), release: make(chan transport.Conn)}
	c, err := tether.New[string]("ws://example.invalid/", tether.WithTransport(tr),
		tether.WithoutHeartbeat(), tether.WithoutReconnect())
	require.NoError(t, err)
	errs := c.Errors(context.Background())
	recv(t, tr.entered) // auto-connect: the Dial is blocked

	closed := make(chan error, 1)
	go func() { closed <- c.Close(context.Background()) }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(deadline):
		tr.release <- &closeRecorder{closed: make(chan struct{})}
		require.FailNow(t, "Close waited for a Dial that ignores its ctx")
	}
	select {
	case <-c.Done():
	case <-time.After(deadline):
		require.FailNow(t, "Done waited for a Dial that ignores its ctx")
	}
	assert.Equal(t, fsm.Closed, c.State())

	var abandoned error
	for e := range errs.All() {
		if errors.Is(e, adapters.ErrDialAbandoned) {
			abandoned = e
		}
	}
	require.ErrorIs(t, abandoned, adapters.ErrDialAbandoned, "the abandoned dial is reported")

	late := &closeRecorder{closed: make(chan struct{})}
	tr.release <- late
	select {
	case <-late.closed:
	case <-time.After(deadline):
		require.FailNow(t, "the connection returned after the shutdown was not closed")
	}
}

// TestHeartbeatRefusesABadProbe: an application-message heartbeat whose
// MessageFunc built text that is not UTF-8 wrote it (a strict peer closed
// with 1007, terminal: the client gave up for good), and one that built a
// type other than Text or Binary was refused by the transport without a
// word, so each interval looked like a dead peer (outside review). Such a
// probe is now never sent: the heartbeat stops on that connection and
// reports adapters.ErrBadProbe once. A fixed text Message that is not
// UTF-8 is refused by New.
func TestHeartbeatRefusesABadProbe(t *testing.T) {
	for name, probe := range map[string]struct {
		p   []byte
		typ transport.MessageType
	}{
		"text that is not UTF-8": {[]byte("hb\xff"), transport.Text},
		"a ping":                 {[]byte("hb"), transport.Ping},
		"an unknown type":        {[]byte("hb"), transport.MessageType(7)},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			hb := policy.Heartbeat{Mode: policy.AppMessage, Interval: time.Second, PongTimeout: 500 * time.Millisecond,
				MessageFunc: func() ([]byte, transport.MessageType) { return probe.p, probe.typ }}
			c, errs, sc := openProbed(e, tether.WithHeartbeat(hb))
			e.clk.Step(time.Second) // the first probe
			err := recv(t, errs.C())
			require.ErrorIs(t, err, adapters.ErrBadProbe)
			require.ErrorIs(t, err, tether.ErrConnection)
			assert.ErrorIs(t, err, policy.ErrInvalidConfig, "policy.CheckProbe says why")
			assert.Zero(t, e.clk.Waiters(), "nothing is probed on this connection any more")
			e.clk.Step(time.Minute)
			assert.Equal(t, fsm.Open, c.State(), "a live peer is not declared dead")

			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			require.NoError(t, c.SendText(ctx, "after"))
			m, err := sc.Recv(ctx)
			require.NoError(t, err)
			assert.Equal(t, "after", string(m.Payload), "the probe was never written")
		})
	}

	_, err := tether.New[string]("ws://127.0.0.1:1/", tether.WithAutoConnect(false),
		tether.WithHeartbeatMessage("hb\xff", time.Second, 500*time.Millisecond))
	assert.ErrorIs(t, err, policy.ErrInvalidConfig, "a fixed text probe that is not UTF-8")
}

// nilDialer is a transport whose Dial breaks its contract: no Conn, no
// error.
type nilDialer struct{}

func (nilDialer) Dial(context.Context, transport.Target) (transport.Conn, error) { return nil, nil }
func (nilDialer) Name() string                                                   { return "nil" }

// TestDialWithNeitherConnNorErrorFailsTheAttempt: a custom transport whose
// Dial returned (nil, nil) crashed the program with a nil dereference in
// the client (outside review). The attempt now fails with
// adapters.ErrNilConn, and the policy decides.
func TestDialWithNeitherConnNorErrorFailsTheAttempt(t *testing.T) {
	c := newClient[string](t, "ws://127.0.0.1:1/", tether.WithTransport(nilDialer{}), tether.WithoutReconnect())
	waitState(t, c, fsm.Closed)
	assert.ErrorIs(t, c.Err(), adapters.ErrNilConn)
}

// typelessTransport wraps the memory transport so that the first Read of
// each connection returns the zero Message, as a broken transport might.
type typelessTransport struct{ transport.Transport }

func (t typelessTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := t.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return &typelessConn{Conn: c}, nil
}

type typelessConn struct {
	transport.Conn
	once sync.Once
}

func (c *typelessConn) Read() (transport.Message, error) {
	typeless := false
	c.once.Do(func() { typeless = true })
	if typeless {
		return transport.Message{Payload: []byte("no type")}, nil
	}
	return c.Conn.Read()
}

// TestReadOfNoKnownTypeDropsTheConnection: a transport whose Read returned
// a message of no known type (the zero Message) had it consumed in
// silence, about 3 million a second from a transport that did nothing
// else (outside review). The connection is now dropped with
// ErrBadMessageType, and the client reconnects as after any drop.
func TestReadOfNoKnownTypeDropsTheConnection(t *testing.T) {
	e := newEnv(t)
	c := client[string](e, tether.WithTransport(typelessTransport{e.srv.Transport()}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	trs := c.Transitions(ctx, stream.WithOverflow(stream.Block))
	e.accept()
	for tr := range trs.All() {
		if tr.Event == fsm.EventDropped {
			require.ErrorIs(t, tr.Cause, adapters.ErrBadMessageType)
			assert.Equal(t, fsm.Waiting, tr.To)
			return
		}
	}
	require.FailNow(t, "no drop before the deadline")
}

// connAndErrorTransport's Dial breaks its contract: it returns a working
// Conn and an error.
type connAndErrorTransport struct {
	transport.Transport
	closed chan struct{}
}

func (t *connAndErrorTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	conn, err := t.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return &closeRecorder{Conn: conn, closed: t.closed}, errors.New("refused, and here is a Conn anyway")
}

// TestDialReturningAConnAndAnErrorClosesTheConn: the attempt fails with
// the error, and the Conn, which nobody else holds, is closed. It used to
// be left open (outside review: 15 of 15).
func TestDialReturningAConnAndAnErrorClosesTheConn(t *testing.T) {
	e := newEnv(t)
	tr := &connAndErrorTransport{Transport: e.srv.Transport(), closed: make(chan struct{})}
	c, err := tether.New[string]("memory://feed", tether.WithTransport(tr), tether.WithoutHeartbeat(),
		tether.WithoutReconnect(), tether.WithAutoConnect(false))
	require.NoError(t, err)
	defer shutDown(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.Error(t, c.Connect(ctx), "the attempt failed")
	select {
	case <-tr.closed:
	case <-ctx.Done():
		require.FailNow(t, "the Conn the failed Dial returned was never closed")
	}
}
