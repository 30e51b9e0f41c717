package tether_test

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// The seed's reconnectAttempts and reconnectInterval: a fixed interval, a
// cap on attempts, then give up.
func TestReconnectAttemptsSimpleForm(t *testing.T) {
	e := newEnv(t)
	e.srv.SetDefault(memory.Unreachable())
	c := client[Reading](e, tether.WithReconnectAttempts(2, 3*time.Second))
	for range 2 {
		e.waitTimers(1)
		assert.Equal(t, []time.Duration{3 * time.Second}, e.clk.Pending())
		e.clk.StepToNext()
	}
	waitState(t, c, fsm.Closed)
	require.NoError(t, c.Close(context.Background())) // the trace is complete once Close returns
	last := c.Trace()[len(c.Trace())-1]
	assert.Equal(t, fsm.EventGiveUp, last.Event)
	assert.ErrorIs(t, last.Cause, policy.ErrAttemptsExhausted)
}

// The seed's onError: decode errors reach the callback, as do drops.
func TestOnErrorGetsEveryError(t *testing.T) {
	e := newEnv(t)
	got := make(chan error, 4)
	c := client[Reading](e, tether.OnError(func(err error) { got <- err }))
	waitState(t, c, fsm.Open)
	sc := e.accept()
	require.NoError(t, sc.Send(context.Background(), transport.Text, []byte("not json")))
	var de *stream.DecodeError
	require.ErrorAs(t, recv(t, got), &de)
	sc.Drop()
	var te *tether.TransitionError
	require.ErrorAs(t, recv(t, got), &te)
	assert.Equal(t, fsm.EventDropped, te.Transition.Event)
}

type cpu struct {
	Load float64 `json:"load"`
}

type alert struct {
	Level string `json:"level"`
}

// The seed's message envelope {type, data, timestamp}: one connection,
// several kinds, a handler per type and a typed stream per type.
func TestEnvelopeRoutingThroughTheClient(t *testing.T) {
	e := newEnv(t)
	r := stream.NewRouter()
	defer r.Close()
	alerts := make(chan stream.Message[alert], 1)
	stream.Handle(r, "alert", func(m stream.Message[alert]) { alerts <- m })
	loads := stream.Route[cpu](r, "cpu").Subscribe(context.Background())
	c := client[stream.Envelope](e, tether.WithRouter(r))
	errs := c.Errors(context.Background())
	waitState(t, c, fsm.Open)
	sc := e.accept()
	ctx := context.Background()
	send := func(v any) {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.NoError(t, sc.Send(ctx, transport.Text, b))
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	send(map[string]any{"type": "cpu", "data": cpu{0.5}, "timestamp": at})
	send(map[string]any{"type": "alert", "data": alert{"warn"}})
	send(map[string]any{"type": "nobody-listens", "data": 1})

	m := recv(t, loads.C())
	assert.Equal(t, 0.5, m.Data.Load)
	assert.True(t, at.Equal(m.Timestamp))
	assert.Equal(t, "warn", recv(t, alerts).Data.Level)
	var re *stream.RouteError
	require.ErrorAs(t, recv(t, errs.C()), &re, "an unknown type is reported")
	assert.ErrorIs(t, re, stream.ErrUnknownType)
	assert.Equal(t, fsm.Open, c.State(), "and the connection stays open")
	// Latest follows once the reader has handed the burst on, which may
	// come a moment after the route error was reported.
	wait, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	for env, ok := c.Latest(); !ok || env.Type != "nobody-listens"; env, ok = c.Latest() {
		require.NoError(t, wait.Err(), "Latest is %v, %+v", ok, env)
		runtime.Gosched()
	}
}

// status is a client type that cannot hold an envelope: its "type" is a
// number.
type status struct {
	Type int `json:"type"`
}

// TestRouterGetsWhatTheClientsTypeCannotHold: a router beside a Client[T]
// whose T cannot decode an envelope got nothing: the decode error for T
// was reported and the message went no further (outside review). The
// router now gets every message; one that is no T goes nowhere else and,
// once routed, is not an error. One that neither takes is reported both
// ways. (A T that is no envelope is reported by the router, as before.)
func TestRouterGetsWhatTheClientsTypeCannotHold(t *testing.T) {
	e := newEnv(t)
	r := stream.NewRouter()
	defer r.Close()
	alerts := make(chan stream.Message[alert], 1)
	stream.Handle(r, "alert", func(m stream.Message[alert]) { alerts <- m })
	c := client[status](e, tether.WithRouter(r))
	errs := c.Errors(context.Background())
	statuses := c.Messages(context.Background())
	waitState(t, c, fsm.Open)
	sc := e.accept()
	for _, m := range []string{`{"type":"alert","data":{"level":"warn"}}`, `{"type":7}`, `{"type":"nobody-listens"}`} {
		require.NoError(t, sc.Send(context.Background(), transport.Text, []byte(m)))
	}
	assert.Equal(t, "warn", recv(t, alerts).Data.Level, "routed, though it is no status")
	assert.Equal(t, 7, recv(t, statuses.C()).Type, "a status reaches the client's stream")
	var (
		re *stream.RouteError
		de *stream.DecodeError
	)
	require.ErrorAs(t, recv(t, errs.C()), &de, "a status is no envelope: the router says so, as before")
	require.ErrorAs(t, recv(t, errs.C()), &re, "nobody listens to this type")
	assert.ErrorIs(t, re, stream.ErrUnknownType)
	require.ErrorAs(t, recv(t, errs.C()), &de, "and it is no status either")
	select {
	case err := <-errs.C():
		require.FailNow(t, "one error too many", "%v", err)
	default:
	}
}

// A subscriber that never reads and chose DropOldest loses the oldest
// messages (and they are counted), but never holds up the reader or another
// subscriber.
func TestDropOldestSubscriberNeverBlocksTheReader(t *testing.T) {
	e := newEnv(t)
	c := client[Reading](e)
	stuck := c.Messages(context.Background(), stream.WithBuffer(1), stream.WithOverflow(stream.DropOldest))
	live := c.Messages(context.Background(), stream.WithBuffer(64))
	waitState(t, c, fsm.Open)
	sc := e.accept()
	for i := range 20 {
		b, _ := json.Marshal(Reading{Sensor: "s", Value: float64(i)})
		require.NoError(t, sc.Send(context.Background(), transport.Text, b))
	}
	for i := range 20 {
		assert.Equal(t, float64(i), recv(t, live.C()).Value)
	}
	assert.EqualValues(t, 19, stuck.Dropped(), "the stuck subscriber kept the newest and counted the rest")
	assert.Equal(t, float64(19), recv(t, stuck.C()).Value)
}

// A user close during the close handshake, with a peer that never answers:
// Close returns as soon as its ctx says so, and the shutdown still finishes
// (bounded by the close timeout) and leaves nothing running.
func TestCloseDuringAStuckCloseHandshake(t *testing.T) {
	e := newEnv(t)
	srv, err := memory.NewServer(memory.WithAutoAccept(), memory.WithClock(e.clk),
		memory.WithCloseTimeout(5*time.Second))
	require.NoError(t, err)
	e.srv = srv
	c := client[Reading](e)
	waitState(t, c, fsm.Open)
	e.accept().Stall() // a black hole: our close frame is never answered

	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, c.Close(short), context.DeadlineExceeded, "Close returns when its ctx ends")
	assert.Equal(t, fsm.Closing, c.State())

	e.waitTimers(1) // the close timeout
	e.clk.Step(5 * time.Second)
	require.NoError(t, c.Close(context.Background()), "the shutdown completes by itself")
	last := c.Trace()[len(c.Trace())-1]
	assert.Equal(t, fsm.Closed, last.To)
	assert.ErrorIs(t, last.Cause, transport.ErrTimeout, "the handshake timed out, and the transition says so")
}

// When the policy gives up, the client shuts down by itself: the streams
// end and Done closes, so a range over Messages does not hang.
func TestGiveUpEndsTheStreams(t *testing.T) {
	e := newEnv(t)
	e.srv.Script(memory.Refuse(404, nil, ""))
	c := client[Reading](e, tether.WithAutoConnect(false))
	msgs := c.Messages(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.Error(t, c.Connect(ctx))
	for range msgs.All() {
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		require.FailNow(t, "Done did not close after the give-up")
	}
}

func TestFlushAndSubprotocol(t *testing.T) {
	e := newEnv(t)
	srv, err := memory.NewServer(memory.WithAutoAccept(), memory.WithSubprotocols("v2"))
	require.NoError(t, err)
	e.srv = srv
	c := client[Reading](e, tether.WithAutoConnect(false), tether.WithSubprotocols("v1", "v2"))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Send(ctx, "queued"))
	assert.Empty(t, c.Subprotocol(), "not open yet")
	require.NoError(t, c.Connect(ctx))
	require.NoError(t, c.Flush(ctx))
	n, _ := c.Buffered()
	assert.Zero(t, n)
	assert.Equal(t, "v2", c.Subprotocol())
}

// TestARouterServesOneClient: Close unblocks the client's router for good,
// so a router handed to a second Client (after the first closed, or beside
// it) made that client's Block subscribers drop what they could not take
// (outside review). New now refuses a router another Client has claimed;
// a New refused for another reason leaves it free.
func TestARouterServesOneClient(t *testing.T) {
	r := stream.NewRouter()
	defer r.Close()
	_, err := tether.New[stream.Envelope]("ws://127.0.0.1:1/", tether.WithRouter(r),
		tether.WithHeader(http.Header{"Not A Token": {"1"}}))
	require.ErrorIs(t, err, transport.ErrBadTarget)
	first, err := tether.New[stream.Envelope]("ws://127.0.0.1:1/", tether.WithRouter(r), tether.WithAutoConnect(false))
	require.NoError(t, err, "the refused New left the router free")
	_, err = tether.New[stream.Envelope]("ws://127.0.0.1:1/", tether.WithRouter(r), tether.WithAutoConnect(false))
	var oe *tether.OptionError
	require.ErrorAs(t, err, &oe, "a second client beside the first")
	assert.Equal(t, "WithRouter", oe.Option)
	assert.ErrorIs(t, err, stream.ErrRouterClaimed)

	require.NoError(t, first.Close(context.Background()))
	_, err = tether.New[stream.Envelope]("ws://127.0.0.1:1/", tether.WithRouter(r), tether.WithAutoConnect(false))
	assert.ErrorIs(t, err, stream.ErrRouterClaimed, "and after it closed: the router stays unblocked")
	assert.NoError(t, stream.NewRouter().Claim(nil), "a new router is free")
}
