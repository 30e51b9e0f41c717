package tether_test

import (
	"context"
	"errors"
	"fmt"
	"os"
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
	"github.com/tether-go/tether/transport"
)

// The stages the tests add to the lifecycle.
var (
	authenticating = fsm.DefineStage("Authenticating")
	resubscribing  = fsm.DefineStage("Resubscribing")
)

// errBadToken is what the test server's refusal turns into.
var errBadToken = errors.New("bad token")

// authStage sends the token and waits for the server's verdict: "ok", or
// anything else for a refusal.
func authStage(token string) tether.StageFunc {
	return func(ctx context.Context, s *tether.Stage) error {
		if err := s.Send(ctx, "auth "+token); err != nil {
			return err
		}
		m, err := s.Receive(ctx)
		if err != nil {
			return err
		}
		if string(m.Payload) != "ok" {
			return fmt.Errorf("%w: %s", errBadToken, m.Payload)
		}
		return nil
	}
}

// TestStageRunsBetweenTheSocketAndOpen: with an Authenticating stage the
// connection is not ready until the exchange passed. Meanwhile IsConnected
// is false, Connect waits, a Send waits in the buffer (the server sees the
// token first), the stage receives what the server sends, and what the
// stage leaves goes to subscribers once Open, after OnOpen.
func TestStageRunsBetweenTheSocketAndOpen(t *testing.T) {
	e := newEnv(t)
	var events []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	c := client[string](e, tether.WithStage(authenticating, authStage("s3cret")),
		tether.OnOpen(func(fsm.Transition) { note("open") }),
		tether.OnMessage(func(m string) { note("message " + m) }))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	sc := e.accept()
	m, err := sc.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "auth s3cret", string(m.Payload), "the stage speaks first")
	assert.Equal(t, authenticating, c.State())
	assert.False(t, c.IsConnected(), "not ready during the stage")
	assert.Equal(t, tether.StatusConnecting, c.Status())

	connected := make(chan error, 1)
	go func() { connected <- c.Connect(ctx) }()
	require.NoError(t, c.Send(ctx, "hello"), "Send during a stage queues")
	queued, _ := c.Buffered()
	assert.Equal(t, 1, queued, "the send buffer waits for Open")

	require.NoError(t, sc.Send(ctx, transport.Text, []byte("ok")))
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("welcome"))) // left by the stage
	require.NoError(t, <-connected, "Connect returns once Open")
	assert.True(t, c.IsConnected())

	m, err = sc.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(m.Payload), "the buffer flushes at Open")
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(events) == 2 }, deadline, time.Millisecond)
	mu.Lock()
	assert.Equal(t, []string{"open", "message welcome"}, events, "OnOpen at Open, then what the stage left")
	mu.Unlock()

	var path []fsm.State
	for _, tr := range c.Trace() {
		path = append(path, tr.To)
	}
	assert.Equal(t, []fsm.State{fsm.Idle, fsm.Connecting, authenticating, fsm.Open}, path)
	d, err := c.Diagram(fsm.Mermaid)
	require.NoError(t, err)
	assert.Contains(t, d, "Connecting --> Authenticating: dialed")
	assert.Contains(t, d, "Authenticating --> Open: stage_done")
	assert.Equal(t, fsm.LifecycleWith(authenticating).Rules, c.Lifecycle().Rules)
	tm := c.TraceMermaid()
	assert.Contains(t, tm, "participant Connecting\n    participant Authenticating\n    participant Open\n",
		"the stage has its lifeline, in its place")
	assert.Contains(t, tm, "Connecting->>Authenticating: ")
}

// TestStageFailureRunsThePolicy: a refusal fails the connection
// (stage_failed, to Waiting) with a *StageError; the policy retries and the
// stage runs again on the next connection; a terminal error ends it.
func TestStageFailureRunsThePolicy(t *testing.T) {
	e := newEnv(t)
	var attempts []int
	var mu sync.Mutex
	c := client[string](e, exactBackoff(policy.WithTerminalErrors(errBadToken)),
		tether.WithStage(authenticating, func(ctx context.Context, s *tether.Stage) error {
			mu.Lock()
			attempts = append(attempts, s.Attempt())
			mu.Unlock()
			if s.Attempt() == 0 {
				return errors.New("try again") // not terminal
			}
			return authStage("wrong")(ctx, s)
		}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	trs := c.Transitions(ctx)
	defer trs.Close()

	first := e.accept()
	waitEvent(t, trs.C(), fsm.EventStageFailed) // Err is set before the stream hears
	select {
	case <-first.Done():
	case <-ctx.Done():
		require.FailNow(t, "the failed stage's connection did not end")
	}
	code, _, ok := first.CloseReceived()
	require.True(t, ok, "the failed stage's connection is closed with a handshake")
	assert.Equal(t, transport.StatusNormalClosure, code, "with 1000, as docs/stages.md says")
	var te *tether.TransitionError
	require.ErrorAs(t, c.Err(), &te)
	assert.Equal(t, fsm.EventStageFailed, te.Transition.Event)
	assert.Equal(t, authenticating, te.Transition.From)
	var se *tether.StageError
	require.ErrorAs(t, c.Err(), &se)
	assert.Equal(t, authenticating, se.Stage)

	e.waitTimers(1)
	e.clk.Step(time.Second)
	sc := e.accept()
	_, err := sc.Recv(ctx)
	require.NoError(t, err)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("no")))
	waitEvent(t, trs.C(), fsm.EventGiveUp)
	require.ErrorIs(t, c.Err(), errBadToken, "the terminal error ends it: %v", c.Err())
	mu.Lock()
	assert.Equal(t, []int{0, 1}, attempts)
	mu.Unlock()
}

// TestStageTimeout: a stage that waits for an answer that never comes
// fails with ErrStageTimeout after WithStageTimeout, on the client's clock.
func TestStageTimeout(t *testing.T) {
	e := newEnv(t)
	c := client[string](e, tether.WithStageTimeout(5*time.Second),
		tether.WithStage(authenticating, authStage("t")))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	trs := c.Transitions(ctx)
	defer trs.Close()
	e.accept()
	waitState(t, c, authenticating)
	e.waitTimers(1)
	e.clk.Step(5 * time.Second)
	waitEvent(t, trs.C(), fsm.EventStageFailed)
	require.ErrorIs(t, c.Err(), tether.ErrStageTimeout)
	var se *tether.StageError
	require.ErrorAs(t, c.Err(), &se)
}

// TestStagesRunInOrderOnEveryConnection: two stages run one after the other
// on each connection, the second after every reconnect too; a drop during
// a stage ends its ctx, and OnClose stays silent for a connection that never
// reached Open (OnOpen did not fire either).
func TestStagesRunInOrderOnEveryConnection(t *testing.T) {
	e := newEnv(t)
	var ran []string
	var mu sync.Mutex
	var closes atomic.Int32
	firstEnded := make(chan struct{}) // the first stage saw its ctx end
	c := client[string](e,
		tether.OnClose(func(fsm.Transition) { closes.Add(1) }),
		tether.WithStage(authenticating, authStage("x")),
		tether.WithStage(resubscribing, func(ctx context.Context, s *tether.Stage) error {
			mu.Lock()
			ran = append(ran, fmt.Sprint("resubscribe ", s.Attempt()))
			mu.Unlock()
			if s.Attempt() == 0 {
				<-ctx.Done() // the server drops the first connection here
				close(firstEnded)
				return ctx.Err()
			}
			return s.Send(ctx, "subscribe")
		}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	sc := e.accept()
	_, err := sc.Recv(ctx)
	require.NoError(t, err)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("ok")))
	waitState(t, c, resubscribing)
	sc.Drop()
	waitState(t, c, fsm.Waiting)

	e.waitTimers(1)
	e.clk.Step(time.Second)
	sc = e.accept()
	_, err = sc.Recv(ctx)
	require.NoError(t, err)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("ok")))
	m, err := sc.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "subscribe", string(m.Payload))
	require.NoError(t, c.Connect(ctx))
	mu.Lock()
	assert.Equal(t, []string{"resubscribe 0", "resubscribe 1"}, ran)
	mu.Unlock()
	// Before Close, which would end it too. The stage's goroutine may
	// still be on its way out when the next connection opens: wait for
	// it (reading a flag here failed once in CI).
	select {
	case <-firstEnded:
	case <-ctx.Done():
		require.FailNow(t, "the drop did not end the first stage's ctx")
	}
	require.NoError(t, c.Close(ctx))
	<-c.Done() // every callback has run
	assert.EqualValues(t, 1, closes.Load(), "OnClose once: for the connection that reached Open, not the one dropped mid-stage")
}

// TestStageLosesNothing: a server that floods during the stage loses no
// message: the stage takes the first, the rest reach the subscriber once
// Open, in order.
func TestStageLosesNothing(t *testing.T) {
	const n = 2000
	e := newEnv(t)
	c := client[string](e, tether.WithStage(authenticating, func(ctx context.Context, s *tether.Stage) error {
		m, err := s.Receive(ctx)
		if err != nil {
			return err
		}
		if string(m.Payload) != "ok" {
			return errBadToken
		}
		return nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	msgs := c.Messages(ctx)
	defer msgs.Close()
	sc := e.accept()
	sendErr := make(chan error, 1)
	go func() {
		err := sc.Send(ctx, transport.Text, []byte("ok"))
		for i := 0; i < n && err == nil; i++ {
			err = sc.Send(ctx, transport.Text, fmt.Appendf(nil, "m-%d", i))
		}
		sendErr <- err
	}()
	for i := range n {
		assert.Equal(t, fmt.Sprintf("m-%d", i), recv(t, msgs.C()))
	}
	require.NoError(t, <-sendErr)
	assert.Zero(t, msgs.Dropped())
}

// TestCloseAndDisconnectDuringAStage: both end a stage blocked in Receive
// (its ctx ends), run the close handshake, and never hang.
func TestCloseAndDisconnectDuringAStage(t *testing.T) {
	for _, disconnect := range []bool{true, false} {
		t.Run(fmt.Sprint("disconnect=", disconnect), func(t *testing.T) {
			e := newEnv(t)
			ended := make(chan error, 1)
			c := client[string](e, tether.WithStage(authenticating, func(ctx context.Context, s *tether.Stage) error {
				_, err := s.Receive(ctx)
				ended <- err
				return err
			}))
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			sc := e.accept()
			waitState(t, c, authenticating)
			if disconnect {
				require.NoError(t, c.Disconnect(ctx))
				assert.Equal(t, fsm.Idle, c.State())
			} else {
				require.NoError(t, c.Close(ctx))
				<-c.Done()
			}
			err := <-ended
			require.ErrorIs(t, err, context.Canceled, "the stage's ctx ended")
			if disconnect {
				assert.ErrorIs(t, err, tether.ErrDisconnected, "Receive says why: %v", err)
			} else {
				assert.ErrorIs(t, err, tether.ErrClosed, "Receive says why")
			}
			_, _, ok := sc.CloseReceived()
			assert.True(t, ok, "the close handshake ran")
		})
	}
}

// TestStageLearnsWhyItsConnectionEnded: a stage waiting in Receive when
// the server drops the connection gets an error that says so (the drop's
// cause, with context.Canceled), and its ctx's cause is the same: a stage
// can tell a drop from Close.
func TestStageLearnsWhyItsConnectionEnded(t *testing.T) {
	e := newEnv(t)
	type ended struct{ received, cause error }
	out := make(chan ended, 1)
	c := client[string](e, tether.WithStage(authenticating, func(ctx context.Context, s *tether.Stage) error {
		_, err := s.Receive(ctx)
		out <- ended{err, context.Cause(ctx)}
		return err
	}))
	sc := e.accept()
	waitState(t, c, authenticating)
	sc.Drop()
	got := <-out
	require.ErrorIs(t, got.received, context.Canceled)
	assert.NotErrorIs(t, got.received, tether.ErrClosed)
	last := c.Trace()
	var drop fsm.Transition
	for _, tr := range last {
		if tr.From == authenticating && tr.Event == fsm.EventDropped {
			drop = tr
		}
	}
	require.NotNil(t, drop.Cause, "the machine left the stage with the drop: %v", last)
	assert.ErrorIs(t, got.received, drop.Cause, "Receive's error carries the drop's cause")
	assert.Equal(t, got.received, got.cause, "and the stage's ctx has the same cause")
	assert.Contains(t, got.received.Error(), "dropped")
}

// TestWithStageRefusesWhatIsNotAStage: the option's errors say what to do.
func TestWithStageRefusesWhatIsNotAStage(t *testing.T) {
	run := func(context.Context, *tether.Stage) error { return nil }
	for name, opts := range map[string][]tether.Option{
		"not a stage": {tether.WithStage(fsm.Open, run)},
		"nil run":     {tether.WithStage(authenticating, nil)},
		"twice":       {tether.WithStage(authenticating, run), tether.WithStage(authenticating, run)},
		"timeout":     {tether.WithStageTimeout(0)},
	} {
		_, err := tether.New[string]("ws://localhost:1", append(opts, tether.WithAutoConnect(false))...)
		var oe *tether.OptionError
		require.ErrorAs(t, err, &oe, name)
		assert.Contains(t, []string{"WithStage", "WithStageTimeout"}, oe.Option, name)
	}
}

// waitEvent reads transitions until one made by event, and returns it.
func waitEvent(t *testing.T, trs <-chan fsm.Transition, event fsm.Event) fsm.Transition {
	t.Helper()
	for {
		tr := recv(t, trs)
		if tr.Event == event {
			return tr
		}
	}
}

// TestStagesDocShowsTheTable: docs/stages.md draws the edges of a stage as
// the code makes them.
func TestStagesDocShowsTheTable(t *testing.T) {
	doc, err := os.ReadFile("docs/stages.md")
	require.NoError(t, err)
	d, err := fsm.LifecycleWith(authenticating).Diagram(fsm.Mermaid)
	require.NoError(t, err)
	var want []string
	for line := range strings.Lines(d) {
		if strings.Contains(line, "Authenticating") {
			want = append(want, line)
		}
	}
	require.Len(t, want, 7)
	assert.Contains(t, string(doc), "```mermaid\nstateDiagram-v2\n"+strings.Join(want, "")+"```\n")
}

// TestStageIgnoringCtxStillTimesOut: the timeout fails the stage when it
// passes, not when the StageFunc returns, and a Send after that writes
// nothing. (It used to wait for the function: a stage that slept 1.5 s
// with a 200 ms timeout failed at 1.5 s.)
func TestStageIgnoringCtxStillTimesOut(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	sendAfter := make(chan error, 1)
	c := client[string](e, tether.WithStageTimeout(5*time.Second),
		tether.WithStage(authenticating, func(ctx context.Context, s *tether.Stage) error {
			<-release // ignores ctx
			sendAfter <- s.Send(context.Background(), "too late")
			return nil
		}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	trs := c.Transitions(ctx)
	defer trs.Close()
	sc := e.accept()
	waitEvent(t, trs.C(), fsm.EventDialed)
	e.waitTimers(1)
	e.clk.Step(5 * time.Second)
	tr := waitEvent(t, trs.C(), fsm.EventStageFailed)
	require.ErrorIs(t, tr.Cause, tether.ErrStageTimeout)
	close(release)
	require.ErrorIs(t, <-sendAfter, tether.ErrStageTimeout, "a stage that is over sends nothing")
	m, err := sc.Recv(ctx)
	assert.Error(t, err, "the server got nothing from the stage: %q", m.Payload)
}

// TestStagesRunWhileMessagesAreHeldForAConsumer: a client with a stage and
// no consumer yet fills its hold; the connection is then replaced. The next
// connection's stage must still get its answer (it used to starve: the
// new reader waited for the old one, paused for a consumer). The first
// consumer then gets the held messages, in order.
func TestStagesRunWhileMessagesAreHeldForAConsumer(t *testing.T) {
	e := newEnv(t)
	c := client[string](e, tether.WithHold(4), tether.WithStage(authenticating, authStage("k")))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	errs := c.Errors(ctx)
	defer errs.Close()
	trs := c.Transitions(ctx)
	defer trs.Close()

	sc := e.accept()
	_, err := sc.Recv(ctx)
	require.NoError(t, err)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("ok")))
	waitEvent(t, trs.C(), fsm.EventStageDone)
	for i := range 4 {
		require.NoError(t, sc.Send(ctx, transport.Text, fmt.Appendf(nil, "m-%d", i)))
	}
	require.ErrorIs(t, recv(t, errs.C()), tether.ErrNoConsumer, "the hold is full")

	require.NoError(t, c.Reconnect(ctx))
	sc = e.accept()
	_, err = sc.Recv(ctx)
	require.NoError(t, err, "the new connection's stage speaks")
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("ok")))
	require.NoError(t, c.Connect(ctx), "the stage got its answer")
	msgs := c.Messages(ctx)
	defer msgs.Close()
	for i := range 4 {
		assert.Equal(t, fmt.Sprintf("m-%d", i), recv(t, msgs.C()))
	}
}
