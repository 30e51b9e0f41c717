package fallback

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tether-go/tether/transport"
)

// Transport dials a primary transport (WebSocket) and falls back to a
// secondary one (HTTP polling) when the primary keeps failing or is refused
// the way a proxy refuses it; while on the secondary it probes the primary
// and upgrades back when it answers. Make one with [New].
//
// A Transport keeps the switch state for every Dial made through it; it is
// safe for concurrent use.
type Transport struct {
	primary, secondary transport.Transport
	opts               options

	mu          sync.Mutex
	onSecondary bool      // the next Dial goes to the secondary
	failures    int       // primary dials failed in a row
	lastProbe   time.Time // when the primary was last tried while on the secondary
	probing     *probeRun // the probe in flight, or nil
}

// probeRun is one probe of the primary, shared by every caller that finds a
// probe due while it runs. done is closed when it ends; up and abandoned
// are set before.
type probeRun struct {
	done      chan struct{}
	up        bool // the primary answered: it is active again
	abandoned bool // the ctx of the caller that dialed ended first
}

var _ transport.Transport = (*Transport)(nil)

// New returns a Transport that dials primary first and secondary as the
// fallback. Neither may be nil. A refused argument or option returns a
// [*ConfigError].
func New(primary, secondary transport.Transport, opts ...Option) (*Transport, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if primary == nil {
		return nil, &ConfigError{Option: "primary", Value: primary, Problem: "must not be nil"}
	}
	if secondary == nil {
		return nil, &ConfigError{Option: "secondary", Value: secondary, Problem: "must not be nil"}
	}
	return &Transport{primary: primary, secondary: secondary, opts: o}, nil
}

// Name returns "fallback". The Conns it returns name the transport actually
// in use through their TransportName method.
//
// Safe from any goroutine.
func (t *Transport) Name() string { return "fallback" }

// Active returns the name of the transport the next Dial goes to: the
// primary's, or the secondary's while the fallback is in use.
//
// Safe from any goroutine.
func (t *Transport) Active() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.onSecondary {
		return t.secondary.Name()
	}
	return t.primary.Name()
}

// Dial connects through the active transport.
//
// On the primary: a success resets the failure count. A failure that the
// proxy-refusal classifier recognises ([WithProxyRefusal]), or the one
// that brings the count to [WithSwitchAfter], switches to the secondary,
// and this same Dial goes on to dial it; any other failure is returned as
// it is, so the client's reconnect policy runs.
//
// On the secondary: when a probe is due ([WithProbeInterval] since the
// last one), Dial first tries the primary under the probe timeout, and on
// success upgrades and returns that connection; otherwise it dials the
// secondary and returns its result as it is. When a probe is in flight
// already (a secondary Conn's, or another Dial's), Dial waits for its
// outcome instead of probing too, then dials the primary if it answered
// and the secondary if not.
//
// The Conn returned names the transport in use through its TransportName
// method ([transport.TransportNamer]). A Conn of the secondary probes the primary on its own
// schedule and ends itself for the upgrade (see the package
// documentation). When ctx ends, Dial returns its error and counts nothing.
//
// Safe for concurrent use.
func (t *Transport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tether/fallback: dial: %w", err)
	}
	onSecondary, probeDue := t.route()
	if onSecondary && probeDue {
		c, up, err := t.probe(ctx, target)
		if err != nil {
			return nil, fmt.Errorf("tether/fallback: dial: %w", err)
		}
		if c != nil {
			return t.wrapPrimary(c), nil
		}
		onSecondary = !up // another caller's probe found the primary back
	}
	if !onSecondary {
		c, err := t.primary.Dial(ctx, target)
		if err == nil {
			t.primaryUp()
			return t.wrapPrimary(c), nil
		}
		if ctx.Err() != nil || !t.primaryFailed(err) {
			return nil, err
		}
	}
	c, err := t.secondary.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return t.wrapSecondary(c, target), nil
}

// route says where the next dial goes and whether a probe of the primary
// is due first.
func (t *Transport) route() (onSecondary, probeDue bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.onSecondary {
		return false, false
	}
	return true, t.opts.clock.Since(t.lastProbe) >= t.opts.probeInterval
}

// untilProbe is how long until the next probe is due.
func (t *Transport) untilProbe() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.opts.probeInterval - t.opts.clock.Since(t.lastProbe)
}

// primaryActive reports whether the next Dial goes to the primary.
func (t *Transport) primaryActive() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.onSecondary
}

// primaryFailed counts a failed primary dial and reports whether the
// secondary is now in use.
func (t *Transport) primaryFailed(err error) bool {
	t.mu.Lock()
	if t.onSecondary { // another Dial switched meanwhile
		t.mu.Unlock()
		return true
	}
	t.failures++
	if t.failures < t.opts.switchAfter && !t.opts.proxyRefusal(err) {
		t.mu.Unlock()
		return false
	}
	t.onSecondary, t.failures, t.lastProbe = true, 0, t.opts.clock.Now()
	t.mu.Unlock()
	t.notify(t.primary.Name(), t.secondary.Name(), err)
	return true
}

// primaryUp records a primary connection: the count resets, and the
// primary is active again if it was not.
func (t *Transport) primaryUp() {
	t.mu.Lock()
	was := t.onSecondary
	t.onSecondary, t.failures = false, 0
	t.mu.Unlock()
	if was {
		t.notify(t.secondary.Name(), t.primary.Name(), ErrUpgrade)
	}
}

// probe tries the primary once for all the callers that find a probe due
// together: the first dials it under the probe timeout; a caller that
// comes while that dial runs waits for its outcome and dials nothing. On
// success the primary is active again; on failure the next probe is an
// interval away.
//
// It reports up when the primary is active, with the probe's connection
// for the caller that dialed it (nil for the others, and when another
// probe had already found the primary back), and ctx's error when ctx
// ended first. A caller that finds the probe no longer due (another one
// has just failed) gets neither.
func (t *Transport) probe(ctx context.Context, target transport.Target) (c transport.Conn, up bool, err error) {
	for {
		t.mu.Lock()
		if !t.onSecondary {
			t.mu.Unlock()
			return nil, true, nil
		}
		if run := t.probing; run != nil {
			t.mu.Unlock()
			select {
			case <-run.done:
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
			if run.abandoned {
				continue // its caller gave up: probe again, one of us
			}
			return nil, run.up, nil
		}
		if t.opts.clock.Since(t.lastProbe) < t.opts.probeInterval {
			t.mu.Unlock()
			return nil, false, nil
		}
		run := &probeRun{done: make(chan struct{})}
		t.probing = run
		t.mu.Unlock()
		return t.runProbe(ctx, target, run)
	}
}

// runProbe dials the primary for run, records the outcome and wakes the
// callers waiting for it.
func (t *Transport) runProbe(ctx context.Context, target transport.Target, run *probeRun) (transport.Conn, bool, error) {
	pctx, cancel := context.WithTimeout(ctx, t.opts.probeTimeout)
	c, err := t.primary.Dial(pctx, target)
	cancel()
	t.mu.Lock()
	t.probing = nil
	run.abandoned = err != nil && ctx.Err() != nil
	run.up = err == nil
	if !run.abandoned {
		t.lastProbe = t.opts.clock.Now()
	}
	upgraded := run.up && t.onSecondary
	if run.up {
		t.onSecondary, t.failures = false, 0
	}
	t.mu.Unlock()
	if upgraded { // before the waiting Conns end for the upgrade
		t.notify(t.secondary.Name(), t.primary.Name(), ErrUpgrade)
	}
	close(run.done)
	switch {
	case run.abandoned:
		return nil, false, ctx.Err()
	case err != nil:
		return nil, false, nil
	}
	return c, true, nil
}

func (t *Transport) notify(from, to string, reason error) {
	if t.opts.onSwitch != nil {
		t.opts.onSwitch(from, to, reason)
	}
}
