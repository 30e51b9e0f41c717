package websocket

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// blockedAfter is about how long a write for a sender whose ctx may end
// runs (between once and twice that) before cutConn starts watching that
// ctx (see cutConn.blocked): a write that does not block costs no watch,
// and so no allocation.
const blockedAfter = time.Millisecond

// cutConn is the network connection as dialled: the TCP connection, under
// TLS and under a proxy's tunnel when there are. It lets the writer stop
// waiting for a network write when the ctx of the sender it writes for
// ends, without breaking the stream and without failing the connection.
//
// Between arm and disarm, the writes are those of a sender whose ctx may
// end. When such a write has run for blockedAfter, a context.AfterFunc
// watches the ctx (see blocked); when the ctx ends, the write deadline is
// set in the past. The write then returns the bytes it wrote so far and a
// timeout, which cutConn tells apart from a real one (a deadline given to
// SetWriteDeadline that passed, or any timeout once the connection is
// ending) and does not report: it keeps the bytes not yet written in
// backlog and returns as if they were written, and so does every later
// write until disarm (the rest of a TLS record, say). What is above it
// sees a write that succeeded: TLS, whose state a failed write would break
// for good, and the writer, which hands the rest of its work to a flushing
// goroutine (see writer.netWrite). The backlog goes out before anything
// else: at the next write, or at drain.
//
// Writes come from the goroutine holding the writer's role, from TLS on
// the reader's goroutine (a key update, an alert) and from drain; mu
// serialises them. arm and disarm are called by the holder of the role
// only. They take dmu and set a few fields; the timer that calls blocked
// runs only while armed writes go on, and arm resets it only when it is
// idle, so at most once per blockedAfter.
type cutConn struct {
	net.Conn

	mu      sync.Mutex  // serialises writes to Conn; guards backlog
	backlog []byte      // bytes kept from cut writes, to be written first
	behind  atomic.Bool // backlog is not empty (changed under mu)

	// The cut. Guarded by dmu, which is never held across I/O.
	dmu      sync.Mutex
	armed    bool
	seq      uint64          // counts arm calls: a watch for an older one does nothing
	ctx      context.Context // the sender's, while armed
	stop     func() bool     // stops the context.AfterFunc, once registered
	fired    bool            // the write deadline is in the past to cut the writes
	fires    uint64          // times fired was set
	restores atomic.Uint64   // times the deadline was restored after a fire (changed under dmu)
	cut      atomic.Bool     // a write was cut since arm: writes go to backlog (changed under dmu)
	policy   time.Time       // the deadline given to SetWriteDeadline or SetDeadline
	ending   bool            // the connection is ending: nothing is cut any more
	poisoned bool            // ending set the write deadline in the past for good

	timer   *time.Timer // calls blocked; made by the first arm
	ticking bool        // the timer is set
	seen    uint64      // seq when blocked last ran
}

// dialCut returns a dial function that wraps what base dials in a
// cutConn and stores that in *cc.
func dialCut(base NetDialFunc, cc **cutConn) NetDialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := base(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		*cc = &cutConn{Conn: c}
		return *cc, nil
	}
}

// Write writes p after the backlog. While a write is cut (see cutConn),
// it keeps p in the backlog instead and reports it written.
func (c *cutConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.writeBacklog(); err != nil {
		return 0, err
	}
	rest := p
	if !c.cut.Load() {
		n, cut, err := c.put(p)
		if !cut {
			return n, err
		}
		rest = p[n:]
	}
	c.backlog = append(c.backlog, rest...)
	c.behind.Store(true)
	return len(p), nil
}

// drain writes the backlog, if any. Called by the flushing goroutine, with
// the writer's role held.
func (c *cutConn) drain() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeBacklog()
}

// writeBacklog writes the backlog, mu held, unless the writes are cut.
func (c *cutConn) writeBacklog() error {
	if len(c.backlog) == 0 || c.cut.Load() {
		return nil
	}
	n, cut, err := c.put(c.backlog)
	c.backlog = c.backlog[n:]
	if err == nil && !cut {
		c.backlog = nil // it can be large: not kept
		c.behind.Store(false)
	}
	return err
}

// put writes p to the network connection, mu held. When a write is cut
// for the sender whose ctx ended, it stops and reports cut, with n the
// bytes written; when a write is cut by a deadline meant for another
// write, since restored, it writes on.
func (c *cutConn) put(p []byte) (n int, cut bool, err error) {
	for {
		r := c.restores.Load()
		m, err := c.Conn.Write(p[n:])
		n += m
		if err == nil {
			return n, false, nil
		}
		switch c.cutShort(err, r) {
		case cutKeep:
			return n, true, nil
		case cutFailed:
			return n, false, err
		}
	}
}

// What cutShort decides.
const (
	cutFailed = iota // a real error
	cutResume        // cut by a deadline since restored: write on
	cutKeep          // cut for the armed sender: keep the rest
)

// cutShort tells, after a write failed with err, whether the failure is a
// cut; restores is c.restores as it was when the write started. Any fire
// since the last restore before the write started may have cut it.
func (c *cutConn) cutShort(err error, restores uint64) int {
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return cutFailed
	}
	c.dmu.Lock()
	defer c.dmu.Unlock()
	switch {
	case c.ending || c.fires == restores,
		!c.policy.IsZero() && !time.Now().Before(c.policy):
		return cutFailed // a real timeout, or the end
	case c.armed && c.fired:
		c.cut.Store(true)
		return cutKeep
	default:
		return cutResume
	}
}

// arm makes the writes that follow, until disarm, writes for a sender
// whose ctx may end (ctx.Done() is not nil). It neither allocates nor
// resets the timer, unless the timer is idle (see blocked).
func (c *cutConn) arm(ctx context.Context) {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.armed = true
	c.seq++
	c.ctx = ctx
	if !c.ticking {
		c.ticking = true
		c.seen = c.seq
		if c.timer == nil {
			c.timer = time.AfterFunc(blockedAfter, c.blocked)
		} else {
			c.timer.Reset(blockedAfter)
		}
	}
}

// disarm ends what arm began and restores the write deadline. It reports
// whether a write was cut: then the backlog holds bytes that someone must
// write (the writer's flushing goroutine, see drain).
func (c *cutConn) disarm() (cut bool) {
	c.dmu.Lock()
	c.armed = false
	c.ctx = nil
	stop := c.stop
	c.stop = nil
	cut = c.cut.Swap(false)
	if c.fired {
		c.fired = false
		if !c.poisoned {
			_ = c.Conn.SetWriteDeadline(c.policy)
		}
		c.restores.Add(1)
	}
	c.dmu.Unlock()
	if stop != nil {
		stop()
	}
	return cut
}

// blocked runs on the timer, every blockedAfter while armed writes go on.
// When the armed writes are those it saw at its last run (seq has not
// changed), they have run for blockedAfter at least: they are blocked,
// and the ctx is watched from now on. Otherwise it notes the writes armed
// now and runs again later, or stops when none are.
func (c *cutConn) blocked() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	switch {
	case !c.armed || c.ending:
		c.ticking = false
	case c.seq != c.seen:
		c.seen = c.seq
		c.timer.Reset(blockedAfter)
	default:
		c.ticking = false // arm starts it again
		if c.stop == nil {
			seq := c.seq
			c.stop = context.AfterFunc(c.ctx, func() { c.interrupt(seq) })
		}
	}
}

// interrupt cuts the writes armed as seq: it sets the write deadline in
// the past.
func (c *cutConn) interrupt(seq uint64) {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if !c.armed || seq != c.seq || c.fired || c.ending {
		return
	}
	c.fired = true
	c.fires++
	_ = c.Conn.SetWriteDeadline(aLongTimeAgo)
}

// end is called when the connection ends, before it is closed: nothing is
// cut any more, and a backlog being written is abandoned (its write fails
// at once), so that closing TLS, which writes an alert after the backlog,
// does not wait for a peer that does not read.
func (c *cutConn) end() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.ending = true
	if c.behind.Load() && !c.poisoned {
		c.poisoned = true
		_ = c.Conn.SetWriteDeadline(aLongTimeAgo)
	}
}

// SetWriteDeadline sets the deadline of the writes: a connection policy
// (the close timeout, TLS's own), which may fail the connection. While a
// write is cut it is recorded and applied at disarm.
func (c *cutConn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.policy = t
	if c.fired || c.poisoned {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline sets the read and write deadlines; see SetWriteDeadline.
func (c *cutConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SyscallConn gives the network connection's, so that the reader can wait
// for bytes without reading (see socketOf). Writing through it would
// bypass the backlog; nothing does.
func (c *cutConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}
