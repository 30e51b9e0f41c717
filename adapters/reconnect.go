package adapters

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
)

// DefaultPreviewSteps is how many attempts after the scheduled one a
// Decision previews (see WithPreviewSteps).
const DefaultPreviewSteps = 5

// Decision is what the reconnect adapter decided on entering Waiting, for
// observers such as logs, the client's Stats and the inspector.
type Decision struct {
	// Context is what the policy was asked with.
	Context policy.RetryContext
	// Decision is its answer.
	Decision policy.Decision
	// Due is when the attempt is due on the adapter's clock: when the
	// decision was made plus the delay. Zero when the policy stopped.
	Due time.Time
	// Ahead is the reconnect schedule after this attempt, should it fail
	// too: policy.PreviewOf with WithPreviewSteps attempts. Empty when the
	// policy stopped or cannot preview (policy.Previewer).
	Ahead policy.Preview
}

// Reconnect is the reconnect adapter. On every entry to Waiting it asks the
// policy, with a retry context built from the transition, and either waits
// the delay on the clock and fires retry, or fires give_up with the policy's
// reason as the cause, which moves the machine to Closed.
//
// Its timer is stopped when the machine leaves Waiting for any other reason
// (close, an early retry). All methods are safe for concurrent use.
type Reconnect struct {
	m          *fsm.Machine
	p          policy.Reconnect
	clk        clock.Clock
	canRefresh bool
	onDecision func(Decision)

	remove func()
	wg     sync.WaitGroup

	preview int

	mu        sync.Mutex
	streak    policy.Streak
	openedAt  time.Time
	timer     clock.Timer
	immediate bool
	decided   *decided // the decision for the latest transition to Waiting; nil once Open (an open connection keeps none)
}

// decided is what waiting made of one transition, kept until the hook
// acts on it.
type decided struct {
	seq      uint64 // of the transition; 0 before the first
	d        Decision
	ok       bool      // the policy was asked
	next     fsm.Input // the follow-up the hook returns
	follow   bool
	reported bool // onDecision was called with d
	// The retry to fire after delay, armed by the hook (not by Decide: a
	// caller of Decide records the decision first, and a test waiting
	// for the timer must find it recorded); armed once it is.
	retry fsm.Input
	delay time.Duration
	arm   bool
}

// ReconnectOption configures a Reconnect adapter.
type ReconnectOption interface{ applyReconnect(*Reconnect) }

type reconnectOption func(*Reconnect)

func (f reconnectOption) applyReconnect(r *Reconnect) { f(r) }

// WithReconnectClock sets the clock the delays run on. Default: real.
func WithReconnectClock(c clock.Clock) ReconnectOption {
	return reconnectOption(func(r *Reconnect) { r.clk = clock.OrReal(c) })
}

// WithCredentialsRefresh tells the policy that a credentials provider is
// configured, so 401 and 403 are retried with fresh credentials.
func WithCredentialsRefresh(ok bool) ReconnectOption {
	return reconnectOption(func(r *Reconnect) { r.canRefresh = ok })
}

// WithDecisionHook sets a function called with every decision, on the
// machine's actor. It must not block.
func WithDecisionHook(f func(Decision)) ReconnectOption {
	return reconnectOption(func(r *Reconnect) { r.onDecision = f })
}

// WithPreviewSteps sets how many attempts after the scheduled one each
// Decision previews in Ahead (DefaultPreviewSteps); 0 or less previews
// none.
func WithPreviewSteps(n int) ReconnectOption {
	return reconnectOption(func(r *Reconnect) { r.preview = max(n, 0) })
}

// NewReconnect attaches the reconnect adapter to m. A nil policy means
// policy.Default().
func NewReconnect(m *fsm.Machine, p policy.Reconnect, opts ...ReconnectOption) *Reconnect {
	if p == nil {
		p = policy.Default()
	}
	r := &Reconnect{m: m, p: p, clk: clock.Real(), preview: DefaultPreviewSteps}
	for _, o := range opts {
		o.applyReconnect(r)
	}
	r.remove = m.AddHook(r.hook)
	return r
}

// RetryNow resets the backoff and reconnects at once, for a network change:
// from Waiting it cuts the wait short; from Open it drops the connection
// with ErrReconnectRequested and dials again without delay (so does an
// application stage before Open); from Idle it
// connects, and from Disconnecting it connects once the handshake ended.
// From Connecting it does nothing. After Closing or Closed it returns
// ErrClosed.
func (r *Reconnect) RetryNow(ctx context.Context) error {
	last := r.m.Last()
	st := last.To
	if st.IsStage() {
		st = fsm.Open // the socket is open: drop it the same way
	}
	switch st {
	case fsm.Idle:
		_, err := r.m.Fire(ctx, fsm.Input{Event: fsm.EventConnect})
		return ignoreRace(err)
	case fsm.Waiting:
		r.mu.Lock()
		r.stopTimer()
		// The immediate dial is attempt 1 of a fresh streak: if it fails,
		// the next is attempt 2.
		r.streak = policy.Streak{Start: r.clk.Now(), Attempts: 1}
		r.mu.Unlock()
		_, err := r.m.Fire(ctx, fsm.Input{Event: fsm.EventRetry, Attempt: 1, Epoch: last.Epoch})
		return ignoreRace(err)
	case fsm.Open:
		r.mu.Lock()
		r.immediate = true
		r.mu.Unlock()
		_, err := r.m.Fire(ctx, fsm.Input{Event: fsm.EventDropped, Cause: ErrReconnectRequested, Epoch: last.Epoch})
		if err != nil {
			r.mu.Lock()
			r.immediate = false
			r.mu.Unlock()
		}
		return ignoreRace(err)
	case fsm.Connecting:
		return nil
	case fsm.Disconnecting:
		if !r.m.WaitForStateChange(ctx, fsm.Disconnecting) {
			return ctx.Err()
		}
		return r.RetryNow(ctx)
	}
	return ErrClosed
}

// ignoreRace treats losing a race with another event as success: the
// machine moved on by itself.
func ignoreRace(err error) error {
	switch {
	case err == nil, errors.Is(err, fsm.ErrForbidden), errors.Is(err, fsm.ErrStale):
		return nil
	case errors.Is(err, fsm.ErrMachineClosed):
		return ErrClosed
	}
	return err
}

// Wait blocks until no timer callback of the adapter is running, or ctx
// ends.
func (r *Reconnect) Wait(ctx context.Context) error {
	return waitGroup(ctx, &r.wg)
}

// Detach removes the adapter's hook and stops its timer.
func (r *Reconnect) Detach() {
	r.remove()
	r.mu.Lock()
	r.stopTimer()
	r.mu.Unlock()
}

// Decide makes the decision for tr, a transition to Waiting, at once
// rather than in the adapter's hook, and returns it: the policy is asked
// now, and the hook later acts on this same decision (it arms the retry
// timer, fires the follow-up and reports it to WithDecisionHook, in its
// own turn among the hooks). A hook that runs before the adapter's and
// tells others of tr calls Decide first, so that what it tells can carry
// the decision: tether's Client records the retry in Stats and its trace
// before its transitions stream hears of Waiting, and before the timer
// exists (a test that waits for the timer on a fake clock finds both).
//
// ok is false when tr does not enter Waiting, or when nothing was asked of
// the policy (after RetryNow from Open, which dials at once). Call it only
// on the machine's actor, from a hook running for tr; a second call for the
// same transition returns the same decision.
func (r *Reconnect) Decide(tr fsm.Transition) (d Decision, ok bool) {
	if tr.To != fsm.Waiting {
		return Decision{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.decide(tr)
	return r.decided.d, r.decided.ok
}

func (r *Reconnect) hook(tr fsm.Transition) (fsm.Input, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if tr.From == fsm.Waiting {
		r.stopTimer()
	}
	switch tr.To {
	case fsm.Open:
		r.openedAt = tr.Time
		r.decided = nil
	case fsm.Closed:
		r.stopTimer()
	case fsm.Idle: // after Disconnect: the next Connect starts afresh
		r.stopTimer()
		r.streak = policy.Streak{}
	case fsm.Waiting:
		dd := r.decide(tr)
		if dd.ok && !dd.reported && r.onDecision != nil {
			dd.reported = true
			r.onDecision(dd.d)
		}
		if dd.arm {
			dd.arm = false
			retry := dd.retry
			r.wg.Add(1)
			r.timer = r.clk.AfterFunc(dd.delay, func() {
				defer r.wg.Done()
				_, _ = r.m.Fire(context.Background(), retry)
			})
		}
		return dd.next, dd.follow
	}
	return fsm.Input{}, false
}

// decide makes the decision for tr once (Decide may have made it already)
// and returns it. r.mu is held.
func (r *Reconnect) decide(tr fsm.Transition) *decided {
	if r.decided == nil || r.decided.seq != tr.Seq {
		r.decided = &decided{seq: tr.Seq}
		r.waiting(tr, r.decided)
	}
	return r.decided
}

// waiting decides what follows a lost connection or a failed dial, into
// out. r.mu is held.
func (r *Reconnect) waiting(tr fsm.Transition, out *decided) {
	now := tr.Time
	if tr.From == fsm.Open {
		r.streak = r.streak.Lost(now, now.Sub(r.openedAt), policy.MinUptimeOf(r.p))
	} else {
		r.streak = r.streak.Failed(now)
	}
	if r.immediate {
		r.immediate = false
		r.streak = policy.Streak{Start: now, Attempts: 1} // the immediate dial is attempt 1
		out.next, out.follow = fsm.Input{Event: fsm.EventRetry, Attempt: 1}, true
		return
	}
	rc := r.streak.Context(now, tr.Cause)
	rc.Transport = tr.Transport
	rc.CanRefreshCredentials = r.canRefresh
	d := r.p.Next(rc)
	out.d, out.ok = Decision{Context: rc, Decision: d}, true
	if d.Stop {
		// The give-up carries the close code of the connection it ends on.
		out.next, out.follow = fsm.Input{Event: fsm.EventGiveUp, Cause: d.Reason, CloseCode: tr.CloseCode}, true
		return
	}
	out.d.Ahead = policy.PreviewOf(r.p, rc, d.Delay, r.preview)
	r.streak = r.streak.Retrying(d.Delay)
	retry := fsm.Input{Event: fsm.EventRetry, Attempt: rc.Attempt, Epoch: tr.Epoch}
	out.d.Due = r.clk.Now().Add(max(d.Delay, 0))
	if d.Delay <= 0 {
		out.next, out.follow = retry, true
		return
	}
	out.retry, out.delay, out.arm = retry, d.Delay, true // armed by the hook
}

// stopTimer stops a pending retry. r.mu is held.
func (r *Reconnect) stopTimer() {
	if r.timer != nil && r.timer.Stop() {
		r.wg.Done()
	}
	r.timer = nil
}
