package fsm

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	looplab "github.com/looplab/fsm"

	"github.com/tether-go/tether/clock"
)

// Hook observes a transition on the machine's actor (the goroutine applying
// inputs), right after the transition is made. It may ask for one follow-up event by returning it
// with ok true; the machine queues it and fires it after the hooks of this
// transition have run, before any other input.
//
// A hook must return quickly and must not call the Machine's Fire or Close
// (the actor is busy running the hook, so that would deadlock). Work that
// blocks, such as dialing, belongs on a goroutine the hook starts, which then
// calls Fire.
type Hook func(t Transition) (next Input, ok bool)

// Option configures a Machine.
type Option interface{ apply(*Machine) }

type optionFunc func(*Machine)

func (f optionFunc) apply(m *Machine) { f(m) }

// WithClock sets the clock that stamps transitions. The default is the real
// clock.
func WithClock(c clock.Clock) Option {
	return optionFunc(func(m *Machine) { m.clk = clock.OrReal(c) })
}

// WithRejected sets a function called, by the actor, for every
// follow-up event a hook asked for that the machine refused (forbidden in the
// state it found, or stale). Without it such refusals are silent by design:
// a follow-up that lost a race with another event is normal.
func WithRejected(f func(in Input, err error)) Option {
	return optionFunc(func(m *Machine) { m.onRejected = f })
}

// Machine runs the lifecycle. One actor at a time owns the looplab FSM and
// applies inputs one after another; every goroutine talks to it through
// Fire. All methods are safe for concurrent use.
type Machine struct {
	clk        clock.Clock
	onRejected func(Input, error)

	// The actor: at most one goroutine at a time applies inputs. It is the
	// caller of Fire that finds no actor running; it applies its own input,
	// then the follow-ups and the inputs others queued meanwhile, and
	// stops being the actor when there is nothing left. So the machine
	// costs no goroutine while it is idle.
	qmu     sync.Mutex // guards queue, running, closed
	queue   []command
	running bool
	closed  bool
	idle    *sync.Cond // on qmu: signalled when the actor stops
	done    chan struct{}
	closing sync.Once

	state atomic.Uint32 // State, for lock-free snapshots

	mu        sync.Mutex // guards last, published, changed, subs, hooks
	last      Transition
	published Transition    // the latest transition subscribers were given
	changed   chan struct{} // made by a waiter, closed (and dropped) by the next transition
	subs      []*subscriber
	drained   bool // the machine is closed: new subscribers get the last transition only
	hooks     []hookEntry
	hookSeq   uint64

	// Owned by the actor.
	lf        *looplab.FSM
	followups []Input
	seq       uint64
	attempt   int
	transport string
	epoch     uint64
}

type hookEntry struct {
	id uint64
	h  Hook
}

type command struct {
	in    Input
	reply chan result
}

type result struct {
	tr  Transition
	err error
}

// New returns a machine in Idle. It starts no goroutine; Close it when done
// to end its subscriptions.
func New(opts ...Option) *Machine {
	m := &Machine{
		clk:  clock.Real(),
		done: make(chan struct{}),
		lf:   newLooplab(),
	}
	m.idle = sync.NewCond(&m.qmu)
	for _, o := range opts {
		o.apply(m)
	}
	m.last = Transition{From: Idle, To: Idle, Event: EventNone, Time: m.clk.Now()}
	m.published = m.last
	return m
}

// newLooplab builds the looplab FSM from the table. It registers no
// callbacks: every reaction runs in our hooks, after looplab's Event has
// returned, which keeps clear of looplab's callback deadlocks.
func newLooplab() *looplab.FSM {
	descs := make([]looplab.EventDesc, 0, len(table))
	for _, r := range table {
		descs = append(descs, looplab.EventDesc{Name: r.Event.String(), Src: []string{r.From.String()}, Dst: r.To.String()})
	}
	return looplab.NewFSM(Idle.String(), descs, nil)
}

var stateByName = func() map[string]State {
	m := make(map[string]State)
	for _, s := range States() {
		m[s.String()] = s
	}
	return m
}()

// Fire applies in and returns the transition it made. It may be called from
// any goroutine except a hook. When the table forbids the event in the
// current state it returns a *ForbiddenError and changes nothing; when the
// input's epoch guard fails it returns ErrStale; after Close it returns
// ErrMachineClosed.
//
// When no other input is being applied, Fire applies in on the calling
// goroutine, runs the hooks there, and then applies whatever others queued
// meanwhile before it returns. Otherwise it queues in for the goroutine
// that is applying inputs and waits. ctx bounds only that wait: a queued
// input is applied even if ctx ends before the reply arrives. An input whose
// ctx has already ended is not queued.
func (m *Machine) Fire(ctx context.Context, in Input) (Transition, error) {
	if err := ctx.Err(); err != nil {
		return Transition{}, err
	}
	m.qmu.Lock()
	if m.closed {
		m.qmu.Unlock()
		return Transition{}, ErrMachineClosed
	}
	if !m.running {
		m.running = true // we are the actor now
		m.qmu.Unlock()
		tr, err := m.apply(in)
		m.act()
		return tr, err
	}
	reply := replyPool.Get().(chan result)
	m.queue = append(m.queue, command{in: in, reply: reply})
	m.qmu.Unlock()
	select {
	case r := <-reply:
		replyPool.Put(reply) // empty again: safe to reuse
		return r.tr, r.err
	case <-ctx.Done():
		// The actor still sends on reply, so it must not be reused.
		return Transition{}, ctx.Err()
	}
}

// replyPool recycles the one-slot reply channels Fire waits on.
var replyPool = sync.Pool{New: func() any { return make(chan result, 1) }}

// State returns the current state without waiting for the actor. Inside a
// hook it is already the transition's To.
func (m *Machine) State() State { return State(m.state.Load()) }

// Last returns the most recent transition whose hooks have run (so what
// they set up is in place), or the initial snapshot (Seq 0, Idle to Idle)
// before the first one.
func (m *Machine) Last() Transition {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// WaitForStateChange blocks until the state differs from from (as Last
// reports it, once the transition's hooks have run), and reports true, or
// until ctx ends, and reports false. It returns at once when the
// state already differs, as gRPC's method of the same name does.
func (m *Machine) WaitForStateChange(ctx context.Context, from State) bool {
	for {
		m.mu.Lock()
		cur := m.last.To
		if cur != from {
			m.mu.Unlock()
			return true
		}
		if m.changed == nil {
			m.changed = make(chan struct{})
		}
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// AddHook attaches h. Hooks run on the actor, in the order they
// were added, after every transition made from then on. The returned
// function detaches h; it is idempotent and safe from any goroutine,
// including from inside a hook.
func (m *Machine) AddHook(h Hook) (remove func()) {
	m.mu.Lock()
	m.hookSeq++
	id := m.hookSeq
	m.hooks = append(append([]hookEntry(nil), m.hooks...), hookEntry{id, h}) // copy on write
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		kept := make([]hookEntry, 0, len(m.hooks))
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
// Closed first if subscribers should see that.
func (m *Machine) Close() error {
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
func (m *Machine) Done() <-chan struct{} { return m.done }

// act applies follow-ups and queued inputs until there are none, then
// stops being the actor. It runs on the goroutine that is the actor.
func (m *Machine) act() {
	for {
		if len(m.followups) > 0 {
			in := m.followups[0]
			m.followups[0] = Input{}
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
		m.queue[0] = command{}
		m.queue = m.queue[1:]
		m.qmu.Unlock()
		tr, err := m.apply(c.in)
		c.reply <- result{tr, err}
	}
}

// apply makes one transition. Only the actor calls it.
func (m *Machine) apply(in Input) (Transition, error) {
	from := m.State()
	to, ok := Next(from, in.Event)
	if !ok {
		return Transition{}, &ForbiddenError{State: from, Event: in.Event}
	}
	if in.Epoch != 0 && in.Epoch != m.epoch {
		return Transition{}, fmt.Errorf("%w: input epoch %d, machine epoch %d", ErrStale, in.Epoch, m.epoch)
	}
	// looplab runs the transition; ctx is always Background, because a
	// cancelled ctx wedges looplab v1.0.3 for good.
	if err := m.lf.Event(context.Background(), in.Event.String()); err != nil {
		return Transition{}, fmt.Errorf("tether/fsm: looplab refused %s in %s: %w", in.Event, from, err)
	}
	if got := stateByName[m.lf.Current()]; got != to {
		return Transition{}, fmt.Errorf("tether/fsm: looplab moved to %s, table says %s", got, to)
	}

	switch {
	case in.Event == EventConnect:
		m.attempt = 0
	case in.Attempt != 0:
		m.attempt = in.Attempt
	}
	if in.Transport != "" {
		m.transport = in.Transport
	}
	if to == Connecting {
		m.epoch++
	}
	m.seq++
	tr := Transition{
		Seq: m.seq, From: from, To: to, Event: in.Event, Cause: in.Cause,
		Attempt: m.attempt, CloseCode: in.CloseCode, Transport: m.transport,
		Epoch: m.epoch, Time: m.clk.Now(),
	}

	m.state.Store(uint32(to)) // hooks, and the actor's next input, read it
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
