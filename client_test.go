package tether_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

func TestBadOptionsFailInNew(t *testing.T) {
	cases := map[string][]tether.Option{
		"WithHeartbeat":         {tether.WithHeartbeat(policy.Heartbeat{Interval: time.Second, PongTimeout: time.Second})},
		"WithSendBuffer":        {tether.WithSendBuffer(0, 10, stream.Block)},
		"WithTransport":         {tether.WithTransport(nil)},
		"WithCodec":             {tether.WithCodec(nil)},
		"WithClock":             {tether.WithClock(nil)},
		"OnMessage":             {tether.OnMessage(func(string) {})}, // the client's T is Reading
		"WithReconnectAttempts": {tether.WithReconnectAttempts(0, time.Second)},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := tether.New[Reading]("ws://example.invalid/feed", append(opts, tether.WithAutoConnect(false))...)
			require.Nil(t, c)
			var oe *tether.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, name, oe.Option)
		})
	}
	_, err := tether.New[Reading]("")
	var oe *tether.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "target", oe.Option)
}

func TestLifecycleAndTypedMessages(t *testing.T) {
	e := newEnv(t)
	c := client[Reading](e, tether.WithAutoConnect(false))
	assert.Equal(t, fsm.Idle, c.State())
	assert.Equal(t, tether.StatusClosed, c.Status())

	msgs := c.Messages(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	assert.True(t, c.IsConnected())
	assert.Equal(t, tether.StatusOpen, c.Status())

	sc := e.accept()
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"sensor":"cpu","value":0.5}`)))
	assert.Equal(t, Reading{"cpu", 0.5}, recv(t, msgs.C()))
	latest, ok := c.Latest()
	require.True(t, ok)
	assert.Equal(t, Reading{"cpu", 0.5}, latest)
}

func TestDecodeErrorKeepsTheConnection(t *testing.T) {
	e := newEnv(t)
	c := client[Reading](e)
	errs := c.Errors(context.Background())
	msgs := c.Messages(context.Background())
	waitState(t, c, fsm.Open)
	sc := e.accept()
	ctx := context.Background()
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"sensor":`)))
	err := recv(t, errs.C())
	var de *stream.DecodeError
	require.ErrorAs(t, err, &de)
	assert.NoError(t, c.Err(), "Err is about the connection, which is fine")
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"sensor":"ok","value":1}`)))
	assert.Equal(t, Reading{"ok", 1}, recv(t, msgs.C()), "the connection stays open")
	assert.Equal(t, fsm.Open, c.State())
}

func TestSendEncodesByType(t *testing.T) {
	e := newEnv(t)
	c := client[Reading](e)
	waitState(t, c, fsm.Open)
	sc := e.accept()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Send(ctx, "hello"))
	require.NoError(t, c.Send(ctx, []byte{1, 2}))
	require.NoError(t, c.Send(ctx, Reading{"x", 2}))
	want := []transport.Message{
		{Type: transport.Text, Payload: []byte("hello")},
		{Type: transport.Binary, Payload: []byte{1, 2}},
		{Type: transport.Text, Payload: []byte(`{"sensor":"x","value":2}`)},
	}
	for _, w := range want {
		got, err := sc.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, w, got)
	}
	var ee *stream.EncodeError
	require.ErrorAs(t, c.Send(ctx, func() {}), &ee, "a value the codec refuses is a typed error")
}

func TestSendsBeforeConnectArriveInOrder(t *testing.T) {
	e := newEnv(t)
	c := client[Reading](e, tether.WithAutoConnect(false))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for _, s := range []string{"1", "2", "3"} {
		require.NoError(t, c.Send(ctx, s))
	}
	n, _ := c.Buffered()
	assert.Equal(t, 3, n)
	require.NoError(t, c.Connect(ctx))
	sc := e.accept()
	for _, s := range []string{"1", "2", "3"} {
		got, err := sc.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, s, string(got.Payload))
	}
}

func TestDropReconnectAndTransitionStream(t *testing.T) {
	e := newEnv(t)
	urls := atomic.Int32{}
	c, err := tether.New[Reading](func(context.Context) (string, error) {
		n := urls.Add(1)
		return "memory://feed?attempt=" + string(rune('0'+n)), nil
	}, tether.WithTransport(e.srv.Transport()), tether.WithClock(e.clk), tether.WithoutHeartbeat(), exactBackoff())
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close(context.Background())) }()
	waitState(t, c, fsm.Open)

	trs := c.Transitions(context.Background())
	first := recv(t, trs.C())
	if first.To != fsm.Open {
		// State is Open before the hook that publishes the transition has
		// run: a subscriber made in between gets the one before, then it.
		assert.Equal(t, fsm.Connecting, first.To)
		first = recv(t, trs.C())
	}
	assert.Equal(t, fsm.Open, first.To, "a new subscriber learns the current state first")

	e.accept().Drop()
	tr := recv(t, trs.C())
	assert.Equal(t, fsm.EventDropped, tr.Event)
	assert.EqualValues(t, transport.StatusAbnormalClosure, tr.CloseCode)
	assert.Equal(t, tether.StatusConnecting, c.Status(), "waiting to reconnect reads as connecting")
	var te *tether.TransitionError
	require.ErrorAs(t, c.Err(), &te, "while not connected, Err says why")
	assert.Equal(t, fsm.EventDropped, te.Transition.Event)
	e.waitTimers(1)
	e.clk.StepToNext()
	assert.Equal(t, fsm.EventRetry, recv(t, trs.C()).Event)
	assert.Equal(t, fsm.EventDialed, recv(t, trs.C()).Event)
	assert.EqualValues(t, 2, urls.Load(), "the URL provider runs on every attempt")
	assert.Equal(t, "memory://feed?attempt=2", e.srv.Dials()[1].URL)
	assert.NoError(t, c.Err(), "open again: nothing stale")
}

func TestReconnectNow(t *testing.T) {
	e := newEnv(t)
	c := client[Reading](e)
	waitState(t, c, fsm.Open)
	sc := e.accept()
	require.NoError(t, c.Reconnect(context.Background()))
	<-sc.Done()
	waitState(t, c, fsm.Open)
	e.accept()
	assert.Zero(t, e.clk.Waiters(), "no backoff delay was used")
}

func TestGiveUpEndsConnectWithCause(t *testing.T) {
	e := newEnv(t)
	e.srv.Script(memoryRefuse(401))
	c := client[Reading](e, tether.WithAutoConnect(false))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	err := c.Connect(ctx)
	require.ErrorIs(t, err, policy.ErrUnauthorized)
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 401, he.StatusCode)
	assert.Equal(t, fsm.Closed, c.State())
	require.ErrorIs(t, c.Send(ctx, "late"), tether.ErrClosed)
	require.ErrorIs(t, c.Reconnect(ctx), tether.ErrClosed)
}

func TestCloseFromEveryStateIsIdempotent(t *testing.T) {
	for _, st := range []fsm.State{fsm.Idle, fsm.Connecting, fsm.Open, fsm.Waiting} {
		t.Run(st.String(), func(t *testing.T) {
			e := newEnv(t)
			opts := []tether.Option{}
			switch st {
			case fsm.Idle:
				opts = append(opts, tether.WithAutoConnect(false))
			case fsm.Connecting:
				e.srv.Script(memoryHang())
			case fsm.Waiting:
				e.srv.SetDefault(memoryUnreachable())
			}
			c := client[Reading](e, opts...)
			waitState(t, c, st)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() { assert.NoError(t, c.Close(context.Background())) })
			}
			wg.Wait()
			assert.Equal(t, fsm.Closed, c.State())
			<-c.Done()
			require.NoError(t, c.Close(context.Background()))
		})
	}
}

func TestCloseFromACallback(t *testing.T) {
	e := newEnv(t)
	closed := make(chan error, 1)
	var c *tether.Client[Reading]
	c = client[Reading](e, tether.WithAutoConnect(false), tether.OnOpen(func(fsm.Transition) {
		closed <- c.Close(context.Background())
	}))
	if err := c.Connect(context.Background()); err != nil {
		require.ErrorIs(t, err, tether.ErrClosed, "Connect may see the close that OnOpen made")
	}
	require.NoError(t, recv(t, closed))
	assert.Equal(t, fsm.Closed, c.State())
}

func TestCallbacksInOrder(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var events []string
	add := func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
	}
	c := client[Reading](e, tether.WithAutoConnect(false),
		tether.OnTransition(func(tr fsm.Transition) { add("transition:" + tr.Event.String()) }),
		tether.OnOpen(func(fsm.Transition) { add("open") }),
		tether.OnClose(func(fsm.Transition) { add("close") }),
		tether.OnDone(func(fsm.Transition) { add("done") }),
		tether.OnError(func(err error) { add("error") }),
		tether.OnMessage(func(r Reading) { add("message:" + r.Sensor) }),
	)
	ctx := context.Background()
	require.NoError(t, c.Connect(ctx))
	sc := e.accept()
	msgs := c.Messages(ctx)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"sensor":"a"}`)))
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"sensor":"b"}`)))
	recv(t, msgs.C())
	recv(t, msgs.C())
	require.NoError(t, c.Close(ctx))
	// Callbacks queued before Close returned may run after it: Done waits
	// for them.
	select {
	case <-c.Done():
	case <-time.After(deadline):
		require.FailNow(t, "Done did not close")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"transition:connect", "transition:dialed", "open", "message:a", "message:b",
		"transition:close", "transition:closed", "close", "done"}, events)
}

func TestIndependentInstances(t *testing.T) {
	e1, e2 := newEnv(t), newEnv(t)
	a := client[Reading](e1)
	b := client[Reading](e2)
	waitState(t, a, fsm.Open)
	waitState(t, b, fsm.Open)
	e1.accept().Drop()
	waitState(t, a, fsm.Waiting)
	assert.Equal(t, fsm.Open, b.State(), "one client's drop does not touch another")
	require.NoError(t, a.Close(context.Background()))
	assert.Equal(t, fsm.Open, b.State())
}

func TestLoggerRecordsTransitionsWithCause(t *testing.T) {
	var buf syncBuffer
	e := newEnv(t)
	e.srv.Script(memoryUnreachable())
	c := client[Reading](e, tether.WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
	waitState(t, c, fsm.Waiting)
	require.NoError(t, c.Close(context.Background()))
	out := buf.String()
	assert.Contains(t, out, `"event":"dial_failed"`)
	assert.Contains(t, out, `"level":"WARN"`)
	assert.Contains(t, out, `"cause":`)
	assert.Contains(t, out, `"to":"Closed"`)
}

func TestDroppedMessagesReachTheErrorStream(t *testing.T) {
	e := newEnv(t)
	dropped := make(chan tether.Drop, 2)
	c := client[Reading](e, tether.WithAutoConnect(false),
		tether.WithSendBuffer(1, 1024, stream.DropOldest),
		tether.OnDrop(func(d tether.Drop) { dropped <- d }))
	errs := c.Errors(context.Background())
	ctx := context.Background()
	require.NoError(t, c.Send(ctx, "old"))
	id, err := c.SendID(ctx, "new")
	require.NoError(t, err)
	var de *tether.DropError
	require.ErrorAs(t, recv(t, errs.C()), &de)
	assert.Equal(t, id-1, de.ID, "the oldest was dropped, with its identity")
	assert.Equal(t, "old", de.Value)
	assert.ErrorIs(t, de, tether.ErrBufferFull)
	d := recv(t, dropped)
	assert.Equal(t, de.ID, d.ID, "OnDrop gets the same drop")
	assert.Empty(t, dropped)
}

func TestTraceMermaid(t *testing.T) {
	e := newEnv(t)
	c := client[Reading](e)
	waitState(t, c, fsm.Open)
	e.accept().Drop()
	waitState(t, c, fsm.Waiting)
	trace := c.Trace()
	require.GreaterOrEqual(t, len(trace), 4)
	out := c.TraceMermaid()
	assert.True(t, strings.HasPrefix(out, "sequenceDiagram\n"))
	assert.Contains(t, out, "Open->>Waiting: 3. dropped")
}

func TestStatusOf(t *testing.T) {
	want := map[fsm.State]tether.Status{fsm.Idle: tether.StatusClosed, fsm.Connecting: tether.StatusConnecting,
		fsm.Open: tether.StatusOpen, fsm.Closing: tether.StatusClosing, fsm.Waiting: tether.StatusConnecting,
		fsm.Closed: tether.StatusClosed}
	for s, st := range want {
		assert.Equal(t, st, tether.StatusOf(s), s.String())
	}
	assert.Equal(t, "connecting", tether.StatusConnecting.String())
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ = errors.New
