package fsm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	looplab "github.com/looplab/fsm"

	"github.com/tether-go/tether/clock"
)

// HookOf observes a transition on the machine's actor (the goroutine
// applying inputs), right after the transition is made. It may ask for one
// follow-up event by returning it with ok true; the machine queues it and
// fires it after the hooks of this transition have run, before any other
// input.
//
// A hook must return quickly and must not call the machine's Fire or Close
// (the actor is busy running the hook, so that would deadlock). Work that
// blocks, such as dialing, belongs on a goroutine the hook starts, which then
// calls Fire.
type HookOf[S, E comparable] func(t TransitionOf[S, E]) (next InputOf[E], ok bool)

// Hook is a [HookOf] of the connection lifecycle.
type Hook = HookOf[State, Event]

// Option configures a machine.
type Option interface{ apply(*config) }

type config struct {
	clk        clock.Clock
	onRejected any // func(InputOf[E], error) for the machine's E
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithClock sets the clock that stamps transitions. The default is the real
// clock.
func WithClock(c clock.Clock) Option {
	return optionFunc(func(cfg *config) { cfg.clk = clock.OrReal(c) })
}

// WithRejected sets a function called, by the actor, for every follow-up
// event a hook asked for that the machine refused (forbidden in the state it
// found, stale, or refused by a guard). Without it such refusals are silent
// by design: a follow-up that lost a race with another event is normal. E
// must be the machine's event type: [NewOf] fails with ErrBadOption
// otherwise.
func WithRejected[E comparable](f func(in InputOf[E], err error)) Option {
	return optionFunc(func(cfg *config) { cfg.onRejected = f })
}

// MachineOf runs a machine declared by a [Def]. One actor at a time owns the
// looplab FSM and applies inputs one after another; every goroutine talks to
// it through Fire. All methods are safe for concurrent use.
type MachineOf[S, E comparable] struct {
	c          *chart[S, E]
	clk        clock.Clock
	onRejected func(InputOf[E], error)
	replies    sync.Pool // of chan result[S, E], one slot each

	// The actor: at most one goroutine at a time applies inputs. It is the
	// caller of Fire that finds no actor running; it applies its own input,
	// then the follow-ups and the inputs others queued meanwhile, and
	// stops being the actor when there is nothing left. So the machine
	// costs no goroutine while it is idle.
	qmu     sync.Mutex // guards queue, running, closed
	queue   []command[S, E]
	running bool
	closed  bool
	idle    *sync.Cond // on qmu: signalled when the actor stops
	done    chan struct{}
	closing sync.Once

	state atomic.Uint32 // index of the state in c.states, for lock-free snapshots

	mu        sync.Mutex // guards last, published, changed, subs, drained, hooks
	last      TransitionOf[S, E]
	published TransitionOf[S, E] // the latest transition subscribers were given
	changed   chan struct{}      // made by a waiter, closed (and dropped) by the next transition or Close
	subs      []*subscriber[S, E]
	drained   bool // the machine is closed: new subscribers get the last transition only
	hooks     []hookEntry[S, E]
	hookSeq   uint64

	// Owned by the actor.
	followups []InputOf[E]
	seq       uint64
	attempt   int
	transport string
	epoch     uint64
}

// Machine runs the connection lifecycle: it is the [MachineOf] of the
// lifecycle's [Def] ([Lifecycle]).
type Machine = MachineOf[State, Event]

type hookEntry[S, E comparable] struct {
	id uint64
	h  HookOf[S, E]
}

type command[S, E comparable] struct {
	in    InputOf[E]
	reply chan result[S, E]
}

type result[S, E comparable] struct {
	tr  TransitionOf[S, E]
	err error
}

// NewOf validates def and returns a machine in def.Initial that runs it. It
// starts no goroutine; Close it when done to end its subscriptions. An
// invalid def fails with the [*DefError] values [Def.Validate] reports
// (errors.Is(err, ErrInvalidDef)); an option for other types fails with
// ErrBadOption.
func NewOf[S, E comparable](def Def[S, E], opts ...Option) (*MachineOf[S, E], error) {
	c, err := compile(def)
	if err != nil {
		return nil, err
	}
	return newMachine(c, opts)
}

// New returns a machine of the connection lifecycle, in Idle. It starts no
// goroutine; Close it when done to end its subscriptions. It panics only
// when given a [WithRejected] for another event type than [Event].
func New(opts ...Option) *Machine {
	m, err := newMachine(lifecycle, opts)
	if err != nil {
		panic(err)
	}
	return m
}

func newMachine[S, E comparable](c *chart[S, E], opts []Option) (*MachineOf[S, E], error) {
	cfg := config{clk: clock.Real()}
	for _, o := range opts {
		o.apply(&cfg)
	}
	m := &MachineOf[S, E]{c: c, clk: cfg.clk, done: make(chan struct{})}
	if cfg.onRejected != nil {
		f, ok := cfg.onRejected.(func(InputOf[E], error))
		if !ok {
			var want E
			return nil, fmt.Errorf("%w: WithRejected takes a %T, the machine's events are %T", ErrBadOption,
				cfg.onRejected, want)
		}
		m.onRejected = f
	}
	m.replies.New = func() any { return make(chan result[S, E], 1) }
	m.idle = sync.NewCond(&m.qmu)
	m.state.Store(uint32(c.initial))
	initial := c.states[c.initial]
	m.last = TransitionOf[S, E]{From: initial, To: initial, Time: m.clk.Now()}
	m.published = m.last
	return m, nil
}

// engine returns a looplab FSM of the table, from the pool or new; the
// caller sets its state, runs one event and puts it back. An FSM with no
// callbacks and no transition pending holds nothing but its state, which
// the next borrower sets, so any machine of the definition may use it.
func (c *chart[S, E]) engine() *looplab.FSM {
	if lf, ok := c.engines.Get().(*looplab.FSM); ok {
		return lf
	}
	return c.looplab()
}

// looplab builds a looplab FSM from the table. It registers no callbacks:
// every reaction runs in our hooks, after looplab's Event has returned,
// which keeps clear of looplab's callback deadlocks.
func (c *chart[S, E]) looplab() *looplab.FSM {
	descs := make([]looplab.EventDesc, 0, len(c.rules))
	for _, r := range c.rules {
		descs = append(descs, looplab.EventDesc{Name: r.event, Src: []string{c.stateNames[r.from]}, Dst: c.stateNames[r.to]})
	}
	return looplab.NewFSM(c.stateNames[c.initial], descs, nil)
}

// Fire applies in and returns the transition it made. It may be called from
// any goroutine except a hook or a guard. When the table forbids the event
// in the current state it returns a *ForbiddenErrorOf and changes nothing;
// when the input's epoch guard fails it returns ErrStale; when the rule's
// guard refuses it, a *RefusedErrorOf; after Close, ErrMachineClosed.
//
// When no other input is being applied, Fire applies in on the calling
// goroutine, runs the hooks there, and then applies whatever others queued
// meanwhile before it returns. Otherwise it queues in for the goroutine
// that is applying inputs and waits. ctx bounds only that wait: a queued
// input is applied even if ctx ends before the reply arrives. An input whose
// ctx has already ended is not queued.
func (m *MachineOf[S, E]) Fire(ctx context.Context, in InputOf[E]) (TransitionOf[S, E], error) {
	if err := ctx.Err(); err != nil {
		return TransitionOf[S, E]{}, err
	}
	m.qmu.Lock()
	if m.closed {
		m.qmu.Unlock()
		return TransitionOf[S, E]{}, ErrMachineClosed
	}
	if !m.running {
		m.running = true // we are the actor now
		m.qmu.Unlock()
		tr, err := m.apply(in)
		m.act()
		return tr, err
	}
	reply := m.replies.Get().(chan result[S, E])
	m.queue = append(m.queue, command[S, E]{in: in, reply: reply})
	m.qmu.Unlock()
	select {
	case r := <-reply:
		m.replies.Put(reply) // empty again: safe to reuse
		return r.tr, r.err
	case <-ctx.Done():
		// The actor still sends on reply, so it must not be reused.
		return TransitionOf[S, E]{}, ctx.Err()
	}
}

// State returns the current state without waiting for the actor. Inside a
// hook it is already the transition's To.
func (m *MachineOf[S, E]) State() S { return m.c.states[m.state.Load()] }

// Last returns the most recent transition whose hooks have run (so what
// they set up is in place), or the initial snapshot (Seq 0, from the
// initial state to itself) before the first one.
func (m *MachineOf[S, E]) Last() TransitionOf[S, E] {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// WaitForStateChange blocks until the state differs from from (as Last
// reports it, once the transition's hooks have run), and reports true, or
// until ctx ends, and reports false. It returns at once when the
// state already differs, as gRPC's method of the same name does.
func (m *MachineOf[S, E]) WaitForStateChange(ctx context.Context, from S) bool {
	_, err := m.waitUntil(ctx, false, func(s S) bool { return s != from })
	return err == nil
}

// WaitFor blocks until the state (as Last reports it, once the transition's
// hooks have run) is one of states, and returns that transition. It returns
// at once when the state already is one of them. It fails with ctx's error
// when ctx ends first, and with ErrMachineClosed when the machine is closed
// in another state, since the state can no longer change.
func (m *MachineOf[S, E]) WaitFor(ctx context.Context, states ...S) (TransitionOf[S, E], error) {
	return m.waitUntil(ctx, true, func(s S) bool { return slices.Contains(states, s) })
}

// waitUntil waits until ok holds for Last().To. With untilClosed it gives
// up with ErrMachineClosed once the machine is closed.
func (m *MachineOf[S, E]) waitUntil(ctx context.Context, untilClosed bool, ok func(S) bool) (TransitionOf[S, E], error) {
	for {
		m.mu.Lock()
		last := m.last
		if ok(last.To) {
			m.mu.Unlock()
			return last, nil
		}
		if untilClosed && m.drained {
			m.mu.Unlock()
			return last, ErrMachineClosed
		}
		if m.changed == nil {
			m.changed = make(chan struct{})
		}
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return last, ctx.Err()
		}
	}
}

// AddHook attaches h. Hooks run on the actor, in the order they
// were added, after every transition made from then on. The returned
// function detaches h; it is idempotent and safe from any goroutine,
// including from inside a hook.
func (m *MachineOf[S, E]) AddHook(h HookOf[S, E]) (remove func()) {
	m.mu.Lock()
	m.hookSeq++
	id := m.hookSeq
	m.hooks = append(append([]hookEntry[S, E](nil), m.hooks...), hookEntry[S, E]{id, h}) // copy on write
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		kept := make([]hookEntry[S, E], 0, len(m.hooks))
		for _, e := range m.hooks {
			if e.id != id {
				kept = append(kept, e)
			}
		}
		m.hooks = kept
	}
}

// Close stops the machine: inputs queued before it are applied, later ones
// fail with ErrMachineClosed, and subscriptions receive what was already
// emitted and then their channels close. Close is idempotent and safe from
// any goroutine but a hook. It does not fire any event: bring the machine to
// a terminal state first if subscribers should see that.
func (m *MachineOf[S, E]) Close() error {
	m.closing.Do(func() {
		m.qmu.Lock()
		m.closed = true
		for m.running {
			m.idle.Wait()
		}
		m.qmu.Unlock()
		m.finishSubscribers()
		close(m.done)
	})
	<-m.done
	return nil
}

// Done is closed once the machine has been closed and no input is being
// applied.
func (m *MachineOf[S, E]) Done() <-chan struct{} { return m.done }

// Allowed returns the events the machine's table allows in s, in
// declaration order (guards aside).
func (m *MachineOf[S, E]) Allowed(s S) []E { return m.c.allowed(s) }

// act applies follow-ups and queued inputs until there are none, then
// stops being the actor. It runs on the goroutine that is the actor.
func (m *MachineOf[S, E]) act() {
	for {
		if len(m.followups) > 0 {
			in := m.followups[0]
			m.followups[0] = InputOf[E]{}
			m.followups = m.followups[1:]
			if _, err := m.apply(in); err != nil && m.onRejected != nil {
				m.onRejected(in, err)
			}
			continue
		}
		m.qmu.Lock()
		if len(m.queue) == 0 {
			m.queue = m.queue[:0]
			m.running = false
			m.idle.Broadcast()
			m.qmu.Unlock()
			return
		}
		c := m.queue[0]
		m.queue[0] = command[S, E]{}
		m.queue = m.queue[1:]
		m.qmu.Unlock()
		tr, err := m.apply(c.in)
		c.reply <- result[S, E]{tr, err}
	}
}

// apply makes one transition. Only the actor calls it.
func (m *MachineOf[S, E]) apply(in InputOf[E]) (TransitionOf[S, E], error) {
	c := m.c
	fromIdx := int(m.state.Load())
	from := c.states[fromIdx]
	ri := c.next(from, in.Event)
	if ri < 0 {
		return TransitionOf[S, E]{}, &ForbiddenErrorOf[S, E]{State: from, Event: in.Event,
			stateName: c.stateNames[fromIdx], eventName: c.eventNameOf(in.Event)}
	}
	if in.Epoch != 0 && in.Epoch != m.epoch {
		return TransitionOf[S, E]{}, fmt.Errorf("%w: input epoch %d, machine epoch %d", ErrStale, in.Epoch, m.epoch)
	}
	r := &c.rules[ri]

	attempt, transport, epoch := m.attempt, m.transport, m.epoch
	switch {
	case r.resetAttempt:
		attempt = 0
	case in.Attempt != 0:
		attempt = in.Attempt
	}
	if in.Transport != "" {
		transport = in.Transport
	}
	if c.epoch[r.to] {
		epoch++
	}
	tr := TransitionOf[S, E]{
		Seq: m.seq + 1, From: from, To: r.To, Event: in.Event, Cause: in.Cause,
		Attempt: attempt, CloseCode: in.CloseCode, Transport: transport,
		Epoch: epoch, Time: m.clk.Now(),
	}
	if r.Guard != nil {
		if err := r.Guard(tr); err != nil {
			return TransitionOf[S, E]{}, &RefusedErrorOf[S, E]{From: from, Event: in.Event, To: r.To, Err: err,
				fromName: c.stateNames[r.from], eventName: r.event, toName: c.stateNames[r.to]}
		}
	}

	// looplab runs the transition, on an FSM of this definition's set to
	// the machine's state; ctx is always Background, because a cancelled
	// ctx wedges looplab v1.0.3 for good.
	lf := c.engine()
	lf.SetState(c.stateNames[fromIdx])
	err := lf.Event(context.Background(), r.event)
	got := lf.Current()
	c.engines.Put(lf)
	if err != nil && !selfLoop(r, err) {
		return TransitionOf[S, E]{}, fmt.Errorf("tether/fsm: looplab refused %s in %s: %w", r.event, c.stateNames[fromIdx], err)
	}
	if got != c.stateNames[r.to] {
		return TransitionOf[S, E]{}, fmt.Errorf("tether/fsm: looplab moved to %s, table says %s", got, c.stateNames[r.to])
	}
	m.seq, m.attempt, m.transport, m.epoch = tr.Seq, attempt, transport, epoch

	m.state.Store(uint32(r.to)) // hooks, and the actor's next input, read it
	m.mu.Lock()
	hooks := m.hooks
	m.mu.Unlock()

	for _, e := range hooks {
		if next, ok := e.h(tr); ok {
			m.followups = append(m.followups, next)
		}
	}

	// Everyone else hears of a transition after the hooks have reacted to
	// it: Last, WaitForStateChange and the subscribers. So a caller that
	// waited for Open finds the connection set up (its session current,
	// its subprotocol known). State reads the new state already while the
	// hooks run.
	m.mu.Lock()
	m.last = tr
	if m.changed != nil {
		close(m.changed)
		m.changed = nil
	}
	m.published = tr
	m.subs = publish(m.subs, tr)
	m.mu.Unlock()
	return tr, nil
}

// selfLoop reports whether err is looplab's answer to a rule that leads
// back to its own state: looplab makes no transition and says so with a
// NoTransitionError, where the table means one.
func selfLoop[S, E comparable](r *rule[S, E], err error) bool {
	var nt looplab.NoTransitionError
	return r.from == r.to && errors.As(err, &nt)
}
