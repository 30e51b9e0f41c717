package tether_test

// Regression tests for issue 11, defects 6 to 8: shutdown never hangs, the
// callback queue is bounded, and Done closes after the last callback.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
	"github.com/tether-go/tether/transport/websocket"
)

// closeCase starts a client whose own code (a callback, a handler, a
// subscriber's loop) calls Close, or that the test closes while a
// subscriber is stuck.
type closeCase struct {
	name  string
	start func(t *testing.T) closeRun
}

// closeRun is what a closeCase started.
type closeRun struct {
	c closer
	// closed receives what the Close call under test returned.
	closed <-chan error
	// ended, when set, is closed once the subscriber's loop has returned.
	ended <-chan struct{}
}

// Defect 6: Close called from any callback, handler or subscriber returns,
// and Done closes, each within its own deadline; a stalled subscriber
// cannot hold Close.
func TestCloseNeverHangs(t *testing.T) {
	cases := []closeCase{
		{"from OnOpen, the server speaking first", func(t *testing.T) closeRun {
			srv, _ := speakingServer(t, 1, func(int) []byte { return []byte("welcome") })
			closed := make(chan error, 1)
			var c *tether.Client[string]
			c = shutdownClient[string](t, srv.URL, tether.OnOpen(func(fsm.Transition) {
				closed <- c.Close(context.Background())
			}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from OnTransition, the server speaking first", func(t *testing.T) closeRun {
			srv, _ := speakingServer(t, 1, func(int) []byte { return []byte("welcome") })
			closed := make(chan error, 1)
			var c *tether.Client[string]
			c = shutdownClient[string](t, srv.URL, tether.OnTransition(func(tr fsm.Transition) {
				if tr.To == fsm.Open {
					closed <- c.Close(context.Background())
				}
			}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from OnMessage, with context.Background", func(t *testing.T) closeRun {
			srv, _ := speakingServer(t, 10, func(i int) []byte { return []byte(numbered(i)) })
			closed := make(chan error, 1)
			var once sync.Once
			var c *tether.Client[string]
			c = shutdownClient[string](t, srv.URL, tether.OnMessage(func(string) {
				once.Do(func() { closed <- c.Close(context.Background()) })
			}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from OnError", func(t *testing.T) closeRun {
			srv, _ := speakingServer(t, 10, func(int) []byte { return []byte("not json") })
			closed := make(chan error, 1)
			var once sync.Once
			var c *tether.Client[Reading]
			c = shutdownClient[Reading](t, srv.URL, tether.OnError(func(err error) {
				var de *stream.DecodeError
				if errors.As(err, &de) {
					once.Do(func() { closed <- c.Close(context.Background()) })
				}
			}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from a router handler", func(t *testing.T) closeRun {
			srv, _ := speakingServer(t, 10, func(i int) []byte {
				return fmt.Appendf(nil, `{"type":"reading","data":{"sensor":"s","value":%d}}`, i)
			})
			r := stream.NewRouter()
			t.Cleanup(r.Close)
			closed := make(chan error, 1)
			var once sync.Once
			var c *tether.Client[stream.Envelope]
			stream.Handle(r, "reading", func(stream.Message[Reading]) {
				once.Do(func() { closed <- c.Close(context.Background()) })
			})
			c = shutdownClient[stream.Envelope](t, srv.URL, tether.WithRouter(r))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from OnClose, the server closing", func(t *testing.T) closeRun {
			srv := closingServer(t)
			closed := make(chan error, 1)
			var once sync.Once
			var c *tether.Client[string]
			c = shutdownClient[string](t, srv.URL, tether.OnClose(func(fsm.Transition) {
				once.Do(func() { closed <- c.Close(context.Background()) })
			}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from OnDone, the policy giving up", func(t *testing.T) closeRun {
			// OnDone runs before Done closes: a Close that waited for
			// Done here would wait for itself.
			srv := closingServer(t)
			closed := make(chan error, 1)
			var c *tether.Client[string]
			c = shutdownClient[string](t, srv.URL, tether.WithoutReconnect(), tether.OnDone(func(fsm.Transition) {
				closed <- c.Close(context.Background())
			}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from OnRetry", func(t *testing.T) closeRun {
			closed := make(chan error, 1)
			var once sync.Once
			var c *tether.Client[string]
			c = shutdownClient[string](t, "ws://127.0.0.1:1/", tether.OnRetry(func(tether.Retry) {
				once.Do(func() { closed <- c.Close(context.Background()) })
			}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from OnRTT, on the reader goroutine", func(t *testing.T) closeRun {
			srv, _ := speakingServer(t, 0, nil)
			closed := make(chan error, 1)
			var once sync.Once
			var c *tether.Client[string]
			c = shutdownClient[string](t, srv.URL,
				tether.WithHeartbeat(policy.Heartbeat{Interval: 50 * time.Millisecond, PongTimeout: 40 * time.Millisecond}),
				tether.OnRTT(func(time.Duration) {
					once.Do(func() { closed <- c.Close(context.Background()) })
				}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from a heartbeat MessageFunc, on the heartbeat's timer", func(t *testing.T) closeRun {
			// Outside review: the shutdown waited for the heartbeat's
			// callbacks before Close could return, and this one was
			// waiting for Close: Close and Done never returned (10 of 10).
			srv, _ := speakingServer(t, 0, nil)
			closed := make(chan error, 1)
			var once sync.Once
			var c *tether.Client[string]
			c = shutdownClient[string](t, srv.URL,
				tether.WithHeartbeat(policy.Heartbeat{Mode: policy.AppMessage, Interval: 50 * time.Millisecond,
					PongTimeout: 40 * time.Millisecond, MessageFunc: func() ([]byte, transport.MessageType) {
						once.Do(func() { closed <- c.Close(context.Background()) })
						return []byte("ping"), transport.Text
					}}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from the credentials provider, during the dial", func(t *testing.T) closeRun {
			// Close waits for the attempt in progress, which was waiting
			// for the provider: it gave up on it after
			// adapters.DialAbandonGrace and reported it abandoned.
			srv, _ := speakingServer(t, 0, nil)
			closed := make(chan error, 1)
			var once sync.Once
			var c *tether.Client[string]
			c = shutdownClient[string](t, srv.URL, tether.WithCredentials(func(context.Context) (http.Header, error) {
				once.Do(func() { closed <- c.Close(context.Background()) })
				return http.Header{"Authorization": {"Bearer t"}}, nil
			}), tether.OnError(func(err error) {
				assert.NotErrorIs(t, err, adapters.ErrDialAbandoned, "the attempt that called Close")
			}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from a StageFunc, with a ctx of its own", func(t *testing.T) closeRun {
			// docs/stages.md: Close from inside a stage runs the close
			// handshake as from Open; the stage's ctx ends (an audit: no
			// test called it from there).
			srv, _ := speakingServer(t, 0, nil)
			closed := make(chan error, 1)
			var c *tether.Client[string]
			c = shutdownClient[string](t, srv.URL, tether.WithStage(fsm.DefineStage("Authenticating"),
				func(ctx context.Context, _ *tether.Stage) error {
					closed <- c.Close(context.Background())
					<-ctx.Done()
					return ctx.Err()
				}))
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		{"from a URL function, during the dial", func(t *testing.T) closeRun {
			srv, _ := speakingServer(t, 0, nil)
			closed := make(chan error, 1)
			var once sync.Once
			tr, err := websocket.New(websocket.WithCloseTimeout(time.Second))
			require.NoError(t, err)
			var c *tether.Client[string]
			c, err = tether.New[string](func(context.Context) (string, error) {
				once.Do(func() { closed <- c.Close(context.Background()) })
				return srv.URL, nil
			}, tether.WithTransport(tr), tether.WithAutoConnect(false), tether.WithoutHeartbeat())
			require.NoError(t, err)
			connectOrClosed(t, c)
			return closeRun{c: c, closed: closed}
		}},
		messagesLoopCase("from a for-range loop over Messages"),
		messagesLoopCase("from a for-range loop over Messages, Block", stream.WithOverflow(stream.Block)),
		errorsLoopCase("from an Errors subscriber's loop"),
		errorsLoopCase("from an Errors subscriber's loop, Block", stream.WithOverflow(stream.Block)),
		transitionsLoopCase("from a Transitions subscriber's loop"),
		transitionsLoopCase("from a Transitions subscriber's loop, Block",
			stream.WithOverflow(stream.Block), stream.WithBuffer(1)),
		{"with a Block Errors subscriber that never reads, and drops to report", func(t *testing.T) closeRun {
			// Close reports the messages still queued on the error
			// stream: to a full Block subscriber they would hold the
			// shutdown, unless Close unblocks the streams first (an
			// audit that removed that found no test failing).
			c := shutdownClient[string](t, "ws://127.0.0.1:1/")
			c.Errors(context.Background(), stream.WithOverflow(stream.Block), stream.WithBuffer(1))
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			for i := range 5 {
				require.NoError(t, c.SendText(ctx, numbered(i)), "queued while disconnected")
			}
			closed := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				defer cancel()
				closed <- c.Close(ctx)
			}()
			return closeRun{c: c, closed: closed}
		}},
		{"with a Block subscriber that never reads", func(t *testing.T) closeRun {
			const n = 100
			srv, wrote := speakingServer(t, n, func(i int) []byte { return []byte(numbered(i)) })
			c := shutdownClient[string](t, srv.URL)
			// Never read: its queue fills and the reader waits for it.
			c.Messages(context.Background(), stream.WithOverflow(stream.Block), stream.WithBuffer(1))
			connectOrClosed(t, c)
			select {
			case <-wrote:
			case <-time.After(deadline):
				require.FailNow(t, "the server could not write its messages")
			}
			closed := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				defer cancel()
				closed <- c.Close(ctx)
			}()
			return closeRun{c: c, closed: closed}
		}},
		{"with a routed Block subscriber that never reads", func(t *testing.T) closeRun {
			// The router stays the caller's (not closed by Close), but
			// Close unblocks it: Done used to stay open until the
			// subscriber read or the program closed the router.
			const n = 100
			srv, wrote := speakingServer(t, n, func(i int) []byte {
				return fmt.Appendf(nil, `{"type":"reading","data":{"sensor":"s","value":%d}}`, i)
			})
			r := stream.NewRouter()
			t.Cleanup(r.Close)
			// A handler registered first runs before each publish: the
			// second message's publish finds the queue full.
			second := make(chan struct{})
			var seen atomic.Int32
			stream.Handle(r, "reading", func(stream.Message[Reading]) {
				if seen.Add(1) == 2 {
					close(second)
				}
			})
			sub := stream.Route[Reading](r, "reading").Subscribe(context.Background(), stream.WithBuffer(1))
			c := shutdownClient[stream.Envelope](t, srv.URL, tether.WithRouter(r))
			connectOrClosed(t, c)
			select {
			case <-wrote:
			case <-time.After(deadline):
				require.FailNow(t, "the server could not write its messages")
			}
			select {
			case <-second:
			case <-time.After(deadline):
				require.FailNow(t, "the second message never came")
			}
			closed := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				defer cancel()
				closed <- c.Close(ctx)
			}()
			t.Cleanup(func() {
				// Counted by the subscriber when the reader was blocked
				// publishing to it at Close, or, when Close came just
				// before that publish, as the client's inbound drop of the
				// message Close cut short (1 of 3 runs once).
				assert.Positive(t, sub.Dropped()+c.Stats().InboundDrops, "what it could not take after Close is counted")
			})
			return closeRun{c: c, closed: closed}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := tc.start(t)
			timer := time.NewTimer(deadline)
			defer timer.Stop()
			select {
			case err := <-run.closed:
				require.NoError(t, err, "Close")
			case <-timer.C:
				require.FailNow(t, "Close did not return")
			}
			select {
			case <-run.c.Done():
			case <-timer.C:
				require.FailNow(t, "Done did not close")
			}
			if run.ended != nil {
				select {
				case <-run.ended:
				case <-timer.C:
					require.FailNow(t, "the subscriber's loop did not end")
				}
			}
			// A Close that waited for itself until the close timeout also
			// returns nil: the handshake must have ended with the
			// server's answer instead (an audit).
			trace := run.c.Trace()
			if last := trace[len(trace)-1]; last.From == fsm.Closing {
				assert.EqualValues(t, transport.StatusNormalClosure, last.CloseCode, "the server answered: %v", last)
				assert.NoError(t, last.Cause, "no close timeout")
			}
		})
	}
}

func messagesLoopCase(name string, opts ...stream.SubOption) closeCase {
	return closeCase{name, func(t *testing.T) closeRun {
		srv, _ := speakingServer(t, 1000, func(i int) []byte { return []byte(numbered(i)) })
		c := shutdownClient[string](t, srv.URL)
		return closeFromLoop(t, c, c.Messages(context.Background(), opts...), func(string) bool { return true })
	}}
}

func errorsLoopCase(name string, opts ...stream.SubOption) closeCase {
	return closeCase{name, func(t *testing.T) closeRun {
		srv, _ := speakingServer(t, 1000, func(int) []byte { return []byte("not json") })
		c := shutdownClient[Reading](t, srv.URL)
		return closeFromLoop(t, c, c.Errors(context.Background(), opts...), func(error) bool { return true })
	}}
}

func transitionsLoopCase(name string, opts ...stream.SubOption) closeCase {
	return closeCase{name, func(t *testing.T) closeRun {
		srv, _ := speakingServer(t, 10, func(i int) []byte { return []byte(numbered(i)) })
		c := shutdownClient[string](t, srv.URL)
		return closeFromLoop(t, c, c.Transitions(context.Background(), opts...),
			func(tr fsm.Transition) bool { return tr.To == fsm.Open })
	}}
}

// closeFromLoop ranges over sub on a goroutine of its own, as a program
// would, and calls Close from inside the loop at the first value trigger
// accepts; then it connects c.
func closeFromLoop[T, V any](t *testing.T, c *tether.Client[T], sub *stream.Subscription[V], trigger func(V) bool) closeRun {
	t.Helper()
	closed, ended := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(ended)
		first := true
		for v := range sub.All() {
			if first && trigger(v) {
				first = false
				closed <- c.Close(context.Background())
			}
		}
	}()
	connectOrClosed(t, c)
	return closeRun{c: c, closed: closed, ended: ended}
}

// speakingServer is a WebSocket server that sends n messages on every
// connection as soon as it is upgraded. wrote is closed once the first
// connection's messages are all written.
func speakingServer(t *testing.T, n int, payload func(int) []byte) (srv *tethertest.WSServer, wrote <-chan struct{}) {
	t.Helper()
	done := make(chan struct{})
	var once sync.Once
	srv, _ = newServer(t, tethertest.WithHandler(func(sc *tethertest.WSConn) {
		for i := range n {
			if sc.Send(transport.Text, payload(i)) != nil {
				return
			}
		}
		once.Do(func() { close(done) })
	}))
	return srv, done
}

// closingServer is a WebSocket server that closes every connection (1001)
// as soon as it is upgraded.
func closingServer(t *testing.T) *tethertest.WSServer {
	t.Helper()
	srv, _ := newServer(t, tethertest.WithHandler(func(sc *tethertest.WSConn) {
		_ = sc.Close(transport.StatusGoingAway, "bye")
	}))
	return srv
}

// shutdownClient builds a client that connects when the case says so,
// with a short close handshake timeout so that no case waits five seconds
// for a peer that already answered, and no heartbeat.
func shutdownClient[T any](t *testing.T, url string, opts ...tether.Option) *tether.Client[T] {
	t.Helper()
	tr, err := websocket.New(websocket.WithCloseTimeout(time.Second))
	require.NoError(t, err)
	return newClient[T](t, url, append([]tether.Option{tether.WithTransport(tr), tether.WithAutoConnect(false),
		tether.WithoutHeartbeat()}, opts...)...)
}

// connectOrClosed connects c; a Close made meanwhile by the code under
// test may end the wait first.
func connectOrClosed[T any](t *testing.T, c *tether.Client[T]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		require.ErrorIs(t, err, tether.ErrClosed)
	}
}

// Defect 6: a Transitions subscriber that calls c.Err() for every
// transition, through many drops and reconnects, never deadlocks the
// client.
func TestTransitionsSubscriberMayCallErr(t *testing.T) {
	const cycles = 50
	e := newEnv(t)
	c := newClient[Reading](t, "memory://feed", tether.WithTransport(e.srv.Transport()), tether.WithClock(e.clk),
		tether.WithoutHeartbeat(), reconnectAtOnce())
	sub := c.Transitions(context.Background(), stream.WithOverflow(stream.Block), stream.WithBuffer(1))
	seen := atomic.Int64{}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for range sub.All() {
			_ = c.Err()
			seen.Add(1)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for i := range cycles + 1 {
		sc, err := e.srv.Accept(ctx)
		require.NoErrorf(t, err, "the client stopped reconnecting after %d drops", i)
		if i < cycles {
			sc.Drop()
		}
	}
	waitState(t, c, fsm.Open)
	require.NoError(t, c.Close(ctx), "Close")
	waitDone(t, c)
	select {
	case <-ended:
	case <-ctx.Done():
		require.FailNow(t, "the subscriber's loop did not end")
	}
	assert.GreaterOrEqual(t, seen.Load(), int64(3*cycles), "every drop, retry and dial was seen")
}

// Defect 7: with an OnError that is slow (it waits until the test lets it
// go), a stream of undecodable messages must not grow the heap without
// bound: what the callback queue cannot hold is counted, not kept. Close
// still returns, and no more decode errors reach OnError than there were.
// (inbound_newapi_test.go checks that the count of dropped callbacks makes
// up the difference.)
func TestOnErrorQueueIsBounded(t *testing.T) {
	// Kept, 50,000 decode errors and their callbacks take about 17 MiB
	// (some 370 bytes each); a bounded queue holds a small fixed number.
	const n = 50_000
	const maxGrowth = 8 << 20
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	release := make(chan struct{})
	var releaseOnce sync.Once
	var decodeErrors atomic.Int64
	c := newClient[Reading](t, "memory://feed", tether.WithTransport(srv.Transport()), tether.WithoutHeartbeat(),
		tether.OnError(func(err error) {
			<-release
			var de *stream.DecodeError
			if errors.As(err, &de) {
				decodeErrors.Add(1)
			}
		}))
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // before the client closes
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	end := c.Messages(ctx)
	waitState(t, c, fsm.Open)
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)

	// Long enough to fill a decode error's excerpt (stream.MaxExcerpt).
	bad := []byte(`{"sensor":"` + strings.Repeat("x", stream.MaxExcerpt) + `", not JSON`)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	feedUndecodable(t, ctx, sc, n, bad, end)
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Lessf(t, growth, int64(maxGrowth), "the heap grew by %d MiB for %d errors a blocked OnError has not taken",
		growth>>20, n)

	releaseOnce.Do(func() { close(release) })
	require.NoError(t, c.Close(ctx), "Close")
	waitDone(t, c)
	assert.Positive(t, decodeErrors.Load())
	assert.LessOrEqual(t, decodeErrors.Load(), int64(n))
}

// Defect 8: Done closes only after the last callback has run. Against a
// server that refuses the upgrade, with no reconnect, OnDone (with the
// Closed transition) has run by the time Done is closed.
func TestDoneClosesAfterTheLastCallback(t *testing.T) {
	const runs = 200
	srv, _ := newServer(t)
	srv.Refuse(http.StatusUpgradeRequired)
	late := 0
	for range runs {
		var mu sync.Mutex
		var calls []string
		record := func(s string) {
			mu.Lock()
			calls = append(calls, s)
			mu.Unlock()
		}
		c, err := tether.New[Reading](srv.URL, tether.WithoutReconnect(), tether.WithoutHeartbeat(),
			tether.OnError(func(error) { record("error") }),
			tether.OnTransition(func(tr fsm.Transition) { record("transition:" + tr.To.String()) }),
			tether.OnDone(func(tr fsm.Transition) { record("done:" + tr.To.String()) }))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		select {
		case <-c.Done():
		case <-ctx.Done():
			require.FailNow(t, "Done did not close after the refusal")
		}
		mu.Lock()
		closedSeen := len(calls) > 0 && calls[len(calls)-1] == "done:Closed"
		got := append([]string(nil), calls...)
		mu.Unlock()
		if !closedSeen {
			late++
			if late == 1 {
				t.Logf("first run with Done closed too early: callbacks so far %v", got)
			}
		}
		require.NoError(t, c.Close(ctx))
		cancel()
	}
	assert.Zerof(t, late, "Done closed before OnDone had run in %d of %d runs", late, runs)
}

// TestDoneWaitsForTheLastCallback: Close returns while a callback or
// handler is still running, and Done closes only after it has returned,
// for each kind of user code the shutdown waits for (an audit found only
// OnDone checked, with nothing running).
func TestDoneWaitsForTheLastCallback(t *testing.T) {
	for _, where := range []string{"OnMessage", "OnRaw", "a router handler", "OnError"} {
		t.Run(where, func(t *testing.T) {
			for range 20 {
				doneWaitsFor(t, where)
			}
		})
	}
}

func doneWaitsFor(t *testing.T, where string) {
	srv, _ := speakingServer(t, 3, func(i int) []byte { return fmt.Appendf(nil, `{"type":"m","data":%d}`, i) })
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var returned atomic.Bool
	block := func() {
		first := false
		once.Do(func() { first = true })
		if !first {
			return
		}
		close(entered)
		<-release
		returned.Store(true)
	}
	var opts []tether.Option
	switch where {
	case "OnMessage":
		opts = append(opts, tether.OnMessage(func(stream.Envelope) { block() }))
	case "OnRaw":
		opts = append(opts, tether.OnRaw(func(transport.Message) { block() }))
	case "a router handler":
		r := stream.NewRouter()
		stream.Handle(r, "m", func(stream.Message[int]) { block() })
		opts = append(opts, tether.WithRouter(r))
	case "OnError":
		// Every message is an error: a router with no route for it.
		opts = append(opts, tether.WithRouter(stream.NewRouter()), tether.OnError(func(error) { block() }))
	}
	c := shutdownClient[stream.Envelope](t, srv.URL, opts...)
	connectOrClosed(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	select {
	case <-entered:
	case <-ctx.Done():
		require.FailNow(t, "the callback never ran")
	}
	require.NoError(t, c.Close(ctx), "Close returns while %s runs", where)
	select {
	case <-c.Done():
		require.FailNow(t, "Done closed while "+where+" was still running")
	case <-time.After(50 * time.Millisecond): // a window for a Done that does not wait
	}
	close(release)
	select {
	case <-c.Done():
	case <-ctx.Done():
		require.FailNow(t, "Done never closed")
	}
	assert.True(t, returned.Load(), "Done closed before %s returned", where)
}

// TestCloseWhileASendIsStuckOnAStalledPeer: a peer that stopped reading
// while a 16 MiB message was being written holds the writer (the socket
// buffers are full); Close must still return, and so must the Send (an
// audit: no test did this).
func TestCloseWhileASendIsStuckOnAStalledPeer(t *testing.T) {
	srv, _ := newServer(t)
	var written atomic.Int64
	tr, err := websocket.New(websocket.WithCloseTimeout(time.Second),
		websocket.WithNetDial(func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: nc, written: &written}, nil
		}))
	require.NoError(t, err)
	c := newClient[string](t, srv.URL, tether.WithTransport(tr), tether.WithAutoConnect(false), tether.WithoutHeartbeat())
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	sc.Stall()
	// The frame the server's reader already waits for; after it, it reads
	// nothing more.
	require.NoError(t, c.SendText(ctx, "last read"))
	sent := make(chan error, 1)
	go func() { sent <- c.SendBinary(context.Background(), make([]byte, 16<<20)) }()
	require.Eventually(t, func() bool { return written.Load() > 1<<20 }, deadline, time.Millisecond,
		"the large message is being written")
	select {
	case <-sent:
		require.FailNow(t, "the Send was not held by the stalled peer: the test proves nothing")
	default:
	}
	require.NoError(t, c.Close(ctx), "Close while a Send is stuck: it returns before ctx's deadline")
	select {
	case <-sent: // committed and cut, or failed: either way it returned
	case <-ctx.Done():
		require.FailNow(t, "the stuck Send never returned")
	}
	waitDone(t, c)
}

// countingConn counts the bytes written to a net.Conn.
type countingConn struct {
	net.Conn
	written *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// gatedCodec is JSON whose Unmarshal of the payload "gate" tells entered
// and waits for proceed: the reader is held between its first look at
// Close and the callbacks.
type gatedCodec struct {
	entered, proceed chan struct{}
}

func (gatedCodec) Name() string { return "gated-json" }

func (gatedCodec) Marshal(v any) ([]byte, bool, error) { return stream.JSON.Marshal(v) }

func (g gatedCodec) Unmarshal(data []byte, v any) error {
	if string(data) == `"gate"` {
		close(g.entered)
		<-g.proceed
	}
	return stream.JSON.Unmarshal(data, v)
}

// TestNoCallbackStartsAfterCloseFromAnotherGoroutine: a Close from another
// goroutine while the reader decodes a message (the codec is slow here)
// keeps that message from OnMessage: it is counted as dropped. An outside review saw OnMessage start after Close had returned
// (over polling, 10 of 200 runs): the reader looked at Close only before
// decoding.
func TestNoCallbackStartsAfterCloseFromAnotherGoroutine(t *testing.T) {
	e := newEnv(t)
	codec := gatedCodec{entered: make(chan struct{}), proceed: make(chan struct{})}
	got := make(chan greeting, 4)
	c := client[greeting](e, tether.WithCodec(codec), tether.WithHold(0), // a named string: decoded by the codec
		tether.OnMessage(func(s greeting) { got <- s }))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	require.NoError(t, e.accept().Send(ctx, transport.Text, []byte(`"gate"`)))
	select {
	case <-codec.entered:
	case <-ctx.Done():
		require.FailNow(t, "the message was never decoded")
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close(ctx) }()
	for st := c.State(); st != fsm.Closing && st != fsm.Closed; st = c.State() { // until Close was called
		require.True(t, c.WaitForStateChange(ctx, st), "Close never started")
	}
	close(codec.proceed)
	require.NoError(t, <-closed)
	waitDone(t, c)
	select {
	case s := <-got:
		require.FailNow(t, "OnMessage got a message after Close was called", "%q", s)
	default:
	}
	assert.Equal(t, uint64(1), c.Stats().InboundDrops, "the message is counted as dropped")
}

// TestACloseFromOneCallbackKeepsTheMessageFromTheNext: given twice, OnRaw
// or OnMessage runs each function in order; when one calls Close, the
// next does not get the message (an outside review saw it run, with the
// message whose callback had closed, after Close returned: they were one
// composed function). The message is counted as dropped. Each OnMessage
// gets a copy of its own.
func TestACloseFromOneCallbackKeepsTheMessageFromTheNext(t *testing.T) {
	for _, kind := range []string{"OnRaw", "OnMessage []byte", "OnMessage decoded"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t)
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			var c *tether.Client[[]byte]
			var cr *tether.Client[Reading]
			var calls, after atomic.Int32
			closeIt := func() {
				calls.Add(1)
				if c != nil {
					assert.NoError(t, c.Close(context.Background()))
				} else {
					assert.NoError(t, cr.Close(context.Background()))
				}
			}
			second := func() { after.Add(1) }
			opts := []tether.Option{tether.WithHold(0)}
			switch kind {
			case "OnRaw":
				opts = append(opts, tether.OnRaw(func(transport.Message) { closeIt() }), tether.OnRaw(func(transport.Message) { second() }))
			case "OnMessage []byte":
				var first []byte
				opts = append(opts,
					tether.OnMessage(func(b []byte) { first = b; b[0] = 'X' }),
					tether.OnMessage(func(b []byte) { assert.NotSame(t, &first[0], &b[0], "a copy of its own") }),
					tether.OnMessage(func([]byte) { closeIt() }),
					tether.OnMessage(func([]byte) { second() }))
			default:
				opts = append(opts, tether.OnMessage(func(Reading) { closeIt() }), tether.OnMessage(func(Reading) { second() }))
			}
			if kind == "OnMessage decoded" {
				cr = client[Reading](e, opts...)
				require.NoError(t, cr.Connect(ctx))
			} else {
				c = client[[]byte](e, opts...)
				require.NoError(t, c.Connect(ctx))
			}
			require.NoError(t, e.accept().Send(ctx, transport.Text, []byte(`{"sensor":"s","value":1}`)))
			if c != nil {
				waitDone(t, c)
				assert.Equal(t, uint64(1), c.Stats().InboundDrops, "the message is counted as dropped")
			} else {
				waitDone(t, cr)
				assert.Equal(t, uint64(1), cr.Stats().InboundDrops, "the message is counted as dropped")
			}
			assert.Equal(t, int32(1), calls.Load())
			assert.Zero(t, after.Load(), "the callback after the one that closed got the message")
		})
	}
}
