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

// Decision is what the reconnect adapter decided on entering Waiting, for
// observers such as logs and the quickstart's display.
type Decision struct {
	// Context is what the policy was asked with.
	Context policy.RetryContext
	// Decision is its answer.
	Decision policy.Decision
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

	mu        sync.Mutex
	streak    policy.Streak
	openedAt  time.Time
	timer     clock.Timer
	immediate bool
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

// NewReconnect attaches the reconnect adapter to m. A nil policy means
// policy.Default().
func NewReconnect(m *fsm.Machine, p policy.Reconnect, opts ...ReconnectOption) *Reconnect {
	if p == nil {
		p = policy.Default()
	}
	r := &Reconnect{m: m, p: p, clk: clock.Real()}
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
		r.streak = policy.Streak{} // the immediate dial starts a fresh streak
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

func (r *Reconnect) hook(tr fsm.Transition) (fsm.Input, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if tr.From == fsm.Waiting {
		r.stopTimer()
	}
	switch tr.To {
	case fsm.Open:
		r.openedAt = tr.Time
	case fsm.Closed:
		r.stopTimer()
	case fsm.Idle: // after Disconnect: the next Connect starts afresh
		r.stopTimer()
		r.streak = policy.Streak{}
	case fsm.Waiting:
		return r.waiting(tr)
	}
	return fsm.Input{}, false
}

// waiting decides what follows a lost connection or a failed dial. r.mu is
// held.
func (r *Reconnect) waiting(tr fsm.Transition) (fsm.Input, bool) {
	now := tr.Time
	if tr.From == fsm.Open {
		r.streak = r.streak.Lost(now, now.Sub(r.openedAt), policy.MinUptimeOf(r.p))
	} else {
		r.streak = r.streak.Failed(now)
	}
	if r.immediate {
		r.immediate = false
		r.streak = policy.Streak{}
		return fsm.Input{Event: fsm.EventRetry, Attempt: 1}, true
	}
	rc := r.streak.Context(now, tr.Cause)
	rc.Transport = tr.Transport
	rc.CanRefreshCredentials = r.canRefresh
	d := r.p.Next(rc)
	if r.onDecision != nil {
		r.onDecision(Decision{Context: rc, Decision: d})
	}
	if d.Stop {
		// The give-up carries the close code of the connection it ends on.
		return fsm.Input{Event: fsm.EventGiveUp, Cause: d.Reason, CloseCode: tr.CloseCode}, true
	}
	r.streak = r.streak.Retrying(d.Delay)
	retry := fsm.Input{Event: fsm.EventRetry, Attempt: rc.Attempt, Epoch: tr.Epoch}
	if d.Delay <= 0 {
		return retry, true
	}
	r.wg.Add(1)
	r.timer = r.clk.AfterFunc(d.Delay, func() {
		defer r.wg.Done()
		_, _ = r.m.Fire(context.Background(), retry)
	})
	return fsm.Input{}, false
}

// stopTimer stops a pending retry. r.mu is held.
func (r *Reconnect) stopTimer() {
	if r.timer != nil && r.timer.Stop() {
		r.wg.Done()
	}
	r.timer = nil
}
