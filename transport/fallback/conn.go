package fallback

import (
	"context"
	"sync"

	"github.com/tether-go/tether/transport"
)

var (
	_ transport.Wrapper        = (*primaryConn)(nil)
	_ transport.Wrapper        = (*secondaryConn)(nil)
	_ transport.TransportNamer = (*primaryConn)(nil)
	_ transport.TransportNamer = (*secondaryConn)(nil)
)

// primaryConn is a Conn of the primary transport, labelled with its name.
type primaryConn struct {
	transport.Conn
	name string
}

// TransportName returns the name of the transport that made the Conn (see
// [transport.TransportNamer]).
//
// Safe from any goroutine.
func (c *primaryConn) TransportName() string { return c.name }

// Unwrap returns the primary's Conn, whose optional interfaces
// ([transport.Backlogger], [transport.ProgressReporter]) describe this one:
// Read is the primary's Read. See [transport.Wrapper].
//
// Safe from any goroutine.
func (c *primaryConn) Unwrap() transport.Conn { return c.Conn }

func (t *Transport) wrapPrimary(c transport.Conn) transport.Conn {
	return &primaryConn{Conn: c, name: t.primary.Name()}
}

// secondaryConn is a Conn of the secondary transport. Its prober goroutine
// probes the primary on the schedule and, when the primary answers, ends
// the Conn with a 1012 close wrapping ErrUpgrade.
type secondaryConn struct {
	transport.Conn
	t      *Transport
	target transport.Target
	name   string

	ctx    context.Context // ends on Close: stops the prober and its probe
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool                  // Close was called
	upgraded *transport.CloseError // set when the prober ended the Conn
}

func (t *Transport) wrapSecondary(c transport.Conn, target transport.Target) transport.Conn {
	ctx, cancel := context.WithCancel(context.Background())
	sc := &secondaryConn{Conn: c, t: t, target: target, name: t.secondary.Name(), ctx: ctx, cancel: cancel}
	sc.wg.Add(1)
	go sc.probeLoop()
	return sc
}

// TransportName returns the name of the transport that made the Conn (see
// [transport.TransportNamer]).
//
// Safe from any goroutine.
func (c *secondaryConn) TransportName() string { return c.name }

// Unwrap returns the secondary's Conn. Its optional interfaces
// ([transport.Backlogger], [transport.ProgressReporter]) describe this one
// too: Read returns what the secondary's Read returns, one message for one,
// and waits only while it waits (it swaps the error for the upgrade's,
// which takes a lock held only for a moment). See [transport.Wrapper].
//
// Safe from any goroutine.
func (c *secondaryConn) Unwrap() transport.Conn { return c.Conn }

// Read reads from the secondary Conn. When the Conn ended for the upgrade,
// the error is a [*transport.CloseError] with code 1012 wrapping
// [ErrUpgrade].
//
// Only one goroutine may call Read.
func (c *secondaryConn) Read() (transport.Message, error) {
	m, err := c.Conn.Read()
	if err != nil {
		if u := c.upgradeErr(); u != nil {
			return m, u
		}
	}
	return m, err
}

// Err reports how the Conn ended, the upgrade included, or nil while it is
// up.
//
// Safe from any goroutine.
func (c *secondaryConn) Err() error {
	err := c.Conn.Err()
	if err != nil {
		if u := c.upgradeErr(); u != nil {
			return u
		}
	}
	return err
}

// Close stops the probes (a probe in flight is abandoned), closes the
// secondary Conn with code and reason, and returns once the probe goroutine
// has returned.
//
// Safe from any goroutine, any number of times.
func (c *secondaryConn) Close(code transport.StatusCode, reason string) error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	err := c.Conn.Close(code, reason)
	c.wg.Wait()
	return err
}

func (c *secondaryConn) upgradeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.upgraded == nil {
		return nil
	}
	return c.upgraded
}

// probeLoop is the prober goroutine: wait for the next probe time of the
// Transport, then probe the primary (or wait for the probe another Conn or
// a Dial has in flight), and end this Conn for the upgrade once the
// primary is back.
func (c *secondaryConn) probeLoop() {
	defer c.wg.Done()
	clk := c.t.opts.clock
	for {
		if wait := c.t.untilProbe(); wait > 0 {
			timer := clk.NewTimer(wait)
			select {
			case <-timer.C():
			case <-c.ctx.Done():
				timer.Stop()
				return
			case <-c.Conn.Done():
				timer.Stop()
				return
			}
		}
		if c.t.primaryActive() {
			// Another Conn's probe, or a Dial, found the primary back.
			c.endForUpgrade()
			return
		}
		pc, up, err := c.t.probe(c.ctx, c.target)
		if err != nil {
			return // closed
		}
		if !up {
			continue // failed, or no longer due: wait for the next probe time
		}
		if pc == nil {
			// The probe of another Conn or of a Dial found the primary back.
			c.endForUpgrade()
			return
		}
		if c.endForUpgrade() {
			_ = pc.Close(transport.StatusNormalClosure, "tether: probe")
		} else {
			_ = pc.Close(transport.StatusAbnormalClosure, "") // closing anyway: abort
		}
		return
	}
}

// endForUpgrade ends the Conn with the upgrade close unless it was closed
// or has ended, and reports whether it did.
func (c *secondaryConn) endForUpgrade() bool {
	reason := "tether: upgrading to " + c.t.primary.Name()
	c.mu.Lock()
	if c.closed || c.upgraded != nil {
		c.mu.Unlock()
		return false
	}
	select {
	case <-c.Conn.Done():
		c.mu.Unlock()
		return false
	default:
	}
	c.upgraded = &transport.CloseError{Code: transport.StatusServiceRestart, Reason: reason, Err: ErrUpgrade}
	c.mu.Unlock()
	_ = c.Conn.Close(transport.StatusServiceRestart, reason)
	return true
}
