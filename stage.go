package tether

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// DefaultStageTimeout bounds each application stage unless
// WithStageTimeout says otherwise.
const DefaultStageTimeout = 30 * time.Second

// ErrStageTimeout is the cause of a stage that did not finish within its
// timeout (WithStageTimeout). It is wrapped in a *StageError.
var ErrStageTimeout = errors.New("tether: the stage did not finish in time")

// StageFunc runs one application stage on a connection whose socket has
// just opened and that is not ready yet: an authentication exchange, a
// resubscription. It returns nil when the stage passed (the next stage
// starts, or the connection becomes ready: Open), or an error that fails
// the connection (event stage_failed, then the reconnect policy decides,
// with a *StageError as the cause; policy.WithTerminalErrors can make it
// final). ctx ends when the stage's time is up, when the connection ends,
// and on Close or Disconnect: return then; context.Cause(ctx) says which
// (see Stage.Receive). It runs on a goroutine of its
// own, once per connection.
//
// The timeout fails the stage when it passes, even if the StageFunc goes
// on; but Done, which waits for every callback and handler, also waits
// for it to return, so honour ctx. A panic is not recovered, as in any
// callback. Do not call Client.Flush with the stage's ctx: the send buffer
// waits for Open, which comes after the stage; and Close or Disconnect
// called from the stage end the stage's ctx, so give them a ctx of your
// own.
type StageFunc func(ctx context.Context, s *Stage) error

// Stage is what a StageFunc sees of the connection it runs on. It is valid
// only while the StageFunc runs.
type Stage struct {
	state   fsm.State
	attempt int
	conn    transport.Conn
	encode  func(v any) (transport.MessageType, []byte, error)
	decode  func(payload []byte, into any) error
	run     *stageRun
}

// State returns the stage's state, as DefineStage made it.
func (s *Stage) State() fsm.State { return s.state }

// Attempt returns the connection's attempt number, as its transitions
// carry it: 0 for the first connection after Connect, then 1, 2, ... for
// the reconnects of a streak.
func (s *Stage) Attempt() int { return s.attempt }

// Send writes v on this connection at once, encoded as Client.Send
// encodes it. It does not go through the send buffer, which waits for the
// connection to be ready, and it is not kept for the peer's confirmation:
// a stage that fails runs again on the next connection. It returns the
// encoding error, or the write's; once the stage is over (the StageFunc
// returned, its time is up, or the connection ended), the stage ctx's
// cause, and nothing is written. A Send still waiting when the stage ends
// (for its turn, for room in the connection) is cut short the same way,
// and the connection opens only once every Send of the stage has
// returned: nothing the stage sends is written after the program's first
// message.
func (s *Stage) Send(ctx context.Context, v any) error {
	r := s.run
	if !r.enter() {
		return context.Cause(r.ctx) // the stage is over: its connection is not this Stage's any more
	}
	defer r.sends.Done()
	typ, payload, err := s.encode(v)
	if err != nil {
		return err
	}
	// The write may wait (for its turn, for room): the end of the stage
	// ends that wait too, so that nothing of the stage's is written after
	// it, behind the program's first messages.
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(r.ctx, func() { cancel(context.Cause(r.ctx)) })
	defer stop()
	err = s.conn.Write(wctx, typ, payload)
	if err != nil && ctx.Err() == nil && context.Cause(r.ctx) != nil && errors.Is(err, context.Canceled) {
		return context.Cause(r.ctx)
	}
	return err
}

// Receive returns the next data message the connection reads, with a
// payload the caller owns. While a stage runs it receives every data
// message (a WithIntercept function sees them first); the reader waits
// for the stage to take each one, so nothing is lost and nothing piles
// up. A message the stage leaves when it ends goes to the next stage, or,
// after the last, is delivered as usual once the connection is ready.
//
// Receive returns ctx's error when ctx ends, and the stage ctx's cause when
// the stage is over: ErrStageTimeout when its time is up; when the
// connection left the stage (a drop, Close, Disconnect) an error matching
// context.Canceled and why: ErrClosed, ErrDisconnected, or the cause of
// the transition that left it (the connection's error, ErrHeartbeatTimeout).
func (s *Stage) Receive(ctx context.Context) (transport.Message, error) {
	select {
	case m := <-s.run.in:
		return m, nil
	case <-ctx.Done():
		if err := context.Cause(s.run.ctx); err != nil {
			return transport.Message{}, err // ctx is (or derives from) the stage's
		}
		return transport.Message{}, ctx.Err()
	case <-s.run.ctx.Done():
		return transport.Message{}, context.Cause(s.run.ctx)
	}
}

// Decode decodes a payload into v (a pointer) with the client's codec.
func (s *Stage) Decode(payload []byte, v any) error { return s.decode(payload, v) }

// StageError is the cause of a failed stage: which stage, and why. Its Err
// is what the StageFunc returned, or ErrStageTimeout.
type StageError struct {
	Stage fsm.State
	Err   error
}

func (e *StageError) Error() string { return fmt.Sprintf("tether: stage %v: %v", e.Stage, e.Err) }

// Unwrap returns the stage's error.
func (e *StageError) Unwrap() error { return e.Err }

// WithStage adds an application stage to the lifecycle: a state of the
// program's own (made with fsm.DefineStage) between the socket opening and
// the connection being ready, in which run does its exchange. Stages run in
// the order given, on every connection: Connecting -dialed-> first stage
// -stage_done-> ... -stage_done-> Open. Until Open the connection is not
// ready: IsConnected is false, Status is connecting, Connect waits, and
// messages sent with Send wait in the send buffer; OnOpen runs at Open.
// The heartbeat runs from the socket's opening. See docs/stages.md.
func WithStage(state fsm.State, run StageFunc) Option {
	return optionFunc(func(c *config) {
		switch {
		case !state.IsStage():
			c.fail("WithStage", invalid("%v is not a stage: make one with fsm.DefineStage", state))
		case run == nil:
			c.fail("WithStage", invalid("nil StageFunc for %v", state))
		case slices.ContainsFunc(c.stages, func(s stageSpec) bool { return s.state == state }):
			c.fail("WithStage", invalid("%v is given twice", state))
		default:
			c.stages = append(c.stages, stageSpec{state: state, run: run})
		}
	})
}

// WithStageTimeout bounds each application stage: one that has not
// finished d after it started fails with ErrStageTimeout. Default:
// DefaultStageTimeout.
func WithStageTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.fail("WithStageTimeout", invalid("%v: want a positive duration (default %v)", d, DefaultStageTimeout))
			return
		}
		c.stageTimeout = d
	})
}

// stageSpec is one WithStage.
type stageSpec struct {
	state fsm.State
	run   StageFunc
}

// stageRun is a stage running on one connection.
type stageRun struct {
	state  fsm.State
	epoch  uint64
	in     chan transport.Message // unbuffered: the reader hands over one at a time
	gone   chan struct{}          // closed when the machine leaves the stage
	ctx    context.Context
	cancel context.CancelCauseFunc

	sendMu sync.Mutex     // orders enter against finish
	sends  sync.WaitGroup // Stage.Sends under way
}

// enter counts a Stage.Send under way, unless the stage is over.
func (r *stageRun) enter() bool {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	if r.ctx.Err() != nil {
		return false
	}
	r.sends.Add(1)
	return true
}

// finish ends the stage's ctx with cause and waits for the Stage.Sends
// under way, which the end cuts short: once it returns, nothing the stage
// sends can be written any more.
func (r *stageRun) finish(cause error) {
	r.sendMu.Lock()
	r.cancel(cause)
	r.sendMu.Unlock()
	r.sends.Wait()
}

// offer hands msg to the stage and reports true once it took it, or false
// once the machine left the stage (the reader then looks again).
func (r *stageRun) offer(msg transport.Message) bool {
	m := transport.Message{Type: msg.Type, Payload: slices.Clone(msg.Payload)}
	select {
	case r.in <- m:
		return true
	case <-r.gone:
		return false
	}
}

// newMachine returns the client's lifecycle machine: fsm.New, which shares
// one compiled table among all clients, without stages (a table compiled
// per client costs an idle connection about 5 KB), and the table with the
// stages otherwise.
func newMachine(cfg config) (*fsm.Machine, error) {
	if len(cfg.stages) == 0 {
		return fsm.New(fsm.WithClock(cfg.clk)), nil
	}
	return fsm.NewOf(fsm.LifecycleWith(stageStates(cfg.stages)...), fsm.WithClock(cfg.clk))
}

// stageStates lists the states of the stages, in order.
func stageStates(specs []stageSpec) []fsm.State {
	out := make([]fsm.State, len(specs))
	for i, s := range specs {
		out[i] = s.state
	}
	return out
}

// stageHook runs on the actor before the connector's hook: it ends the run
// of a stage the machine left and starts the run of a stage it entered.
func (c *Client[T]) stageHook(tr fsm.Transition) (fsm.Input, bool) {
	if !tr.From.IsStage() && !tr.To.IsStage() {
		return fsm.Input{}, false
	}
	// The next run replaces the last in one step, so that a reader whose
	// offer the last refused finds the next one (or none, once Open: the
	// record hook has set the OnOpen gate by then).
	var r *stageRun
	if tr.To.IsStage() {
		r = c.newStageRun(tr)
	}
	if old := c.stage.Swap(r); old != nil {
		close(old.gone)
		old.cancel(stageLeft(old.state, tr))
	}
	return fsm.Input{}, false
}

// stageLeft is the cause of the ctx of a stage whose connection left it
// while the StageFunc still ran (a stage that returned or timed out has
// its cause already): context.Canceled, and why the machine moved on
// (ErrClosed, ErrDisconnected, or the cause of the drop or failure).
func stageLeft(stage fsm.State, tr fsm.Transition) error {
	why := tr.Cause
	switch tr.Event {
	case fsm.EventClose:
		why = ErrClosed
	case fsm.EventDisconnect:
		why = ErrDisconnected
	}
	if why == nil {
		return fmt.Errorf("tether: stage %v left (%v): %w", stage, tr.Event, context.Canceled)
	}
	return fmt.Errorf("tether: stage %v left (%v): %w: %w", stage, tr.Event, context.Canceled, why)
}

// newStageRun starts the stage tr entered, on a goroutine of its own.
func (c *Client[T]) newStageRun(tr fsm.Transition) *stageRun {
	i := slices.IndexFunc(c.cfg.stages, func(s stageSpec) bool { return s.state == tr.To })
	sess := c.con.Current() // the dialed session, already: the state is a live one
	if i < 0 || sess == nil || sess.Epoch != tr.Epoch {
		return nil // cannot happen: the table has only our stages
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &stageRun{state: tr.To, epoch: tr.Epoch, in: make(chan transport.Message), gone: make(chan struct{}),
		ctx: ctx, cancel: cancel}
	st := &Stage{state: tr.To, attempt: tr.Attempt, conn: sess.Conn, encode: c.encode, run: r,
		decode: func(p []byte, v any) error { return c.cfg.codec.Unmarshal(p, v) }}
	fail := func(err error) {
		// Refused when the machine moved on (a drop, Close, the timeout
		// first): nothing to do.
		_, _ = c.m.Fire(context.Background(), fsm.Input{Event: fsm.EventStageFailed, Epoch: r.epoch,
			Cause: &StageError{Stage: r.state, Err: transport.RedactErr(err)}})
	}
	// The timeout fails the stage at once, whether or not the StageFunc
	// honours its ctx.
	timer := c.cfg.clk.AfterFunc(c.cfg.stageTimeout, func() {
		cancel(ErrStageTimeout)
		fail(ErrStageTimeout)
	})
	run := c.cfg.stages[i].run
	c.stages.Go(func() {
		err := run(ctx, st)
		// Over: the Sends the StageFunc left running (on goroutines of its
		// own) end before the machine moves on, so none is written after
		// Open, behind the program's first messages.
		r.finish(context.Canceled)
		if !timer.Stop() || context.Cause(ctx) == ErrStageTimeout {
			return // the timeout failed the stage
		}
		if err != nil {
			fail(err)
			return
		}
		_, _ = c.m.Fire(context.Background(), fsm.Input{Event: fsm.EventStageDone, Epoch: r.epoch})
	})
	return r
}

// toStage hands a data message read on s to the stage running on it, and
// reports whether it did. When the stage ends first it tries the next one;
// false means no stage runs any more (the message is delivered as usual).
func (c *Client[T]) toStage(s *adapters.Session, msg transport.Message) bool {
	for {
		r := c.stage.Load()
		if r == nil || r.epoch != s.Epoch {
			return false
		}
		if r.offer(msg) {
			return true
		}
	}
}
