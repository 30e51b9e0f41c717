package adapters

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/transport"
)

// A Conn that breaks its contract at its end (a Close that never returns,
// a Read that its Close does not unblock) would hold whatever waits for
// it: the Closing state, the next connection's reader, the shutdown. With
// a close limit the Connector bounds both waits in real time and abandons
// such a Conn (ErrConnAbandoned): the goroutine inside the Conn stays
// there, and nothing it brings back later is used.

// DefaultCloseLimit is the close limit of WithCloseLimit when none is
// given: twice the WebSocket transport's own close timeout, so that a
// Conn keeping to its contract always ends first.
const DefaultCloseLimit = 10 * time.Second

// WithCloseLimit bounds, in real time, how long the Connector waits for a
// connection's Close to return, and for its reader's Read to return once
// Close has returned. A Conn that takes longer is abandoned: the Close is
// treated as failed with an error matching ErrConnAbandoned, the reader
// stops waiting for that Read (it delivers nothing the Read returns later,
// and the next connection's reader starts), and the abandon hook hears of
// it. 0 sets no limit (the Connector waits as long as the Conn takes).
func WithCloseLimit(d time.Duration) ConnectorOption {
	return connectorOption(func(c *Connector) { c.closeLimit = max(d, 0) })
}

// WithAbandonHook sets the function told of each connection abandoned
// under the close limit, with an error matching ErrConnAbandoned. It runs
// on a goroutine of the Connector's; it must not block.
func WithAbandonHook(f func(error)) ConnectorOption {
	return connectorOption(func(c *Connector) { c.onAbandon = f })
}

// The reader's state, in the low bits of Session.rstate; the bits above
// count the Read calls started, so that the watch (watchReader) can tell
// one long Read from many short ones.
const (
	readIdle      = 0 // between Reads: delivering, or not started
	readBlocked   = 1 // in Read
	readAbandoned = 2 // given up on; the goroutine must deliver nothing more
	readExited    = 3 // returned
	readStateMask = 3
)

// readerGate is the part of a Session that the reader and the close limit
// share.
type readerGate struct {
	rstate atomic.Uint64
	finish func() // releases the reader's place (its done channel, readers); once

	watchMu sync.Mutex
	watch   *time.Timer // watchReader's timer, or nil
	seen    uint64      // rstate when the watch was armed (or re-armed)
}

// beginRead marks a Read as started; false once the reader was abandoned.
func (g *readerGate) beginRead() bool {
	for {
		v := g.rstate.Load()
		if v&readStateMask != readIdle {
			return false
		}
		if g.rstate.CompareAndSwap(v, (v&^readStateMask)+(1<<2)|readBlocked) {
			return true
		}
	}
}

// endRead marks the Read as returned; false if the reader was abandoned
// meanwhile: what the Read returned must not be used.
func (g *readerGate) endRead() bool {
	v := g.rstate.Load()
	return v&readStateMask == readBlocked && g.rstate.CompareAndSwap(v, v&^readStateMask|readIdle)
}

// exited marks the reader as returned and stops its watch.
func (g *readerGate) exited() {
	g.watchMu.Lock()
	defer g.watchMu.Unlock()
	for {
		v := g.rstate.Load()
		if v&readStateMask == readAbandoned || g.rstate.CompareAndSwap(v, v&^readStateMask|readExited) {
			break
		}
	}
	if g.watch != nil {
		g.watch.Stop()
	}
}

// abandon gives up on a reader blocked in a Read now; false if it is not
// in a Read. The caller reports it, then releases its place (finish), so
// that the report comes before Done.
func (g *readerGate) abandon() bool {
	v := g.rstate.Load()
	return v&readStateMask == readBlocked && g.rstate.CompareAndSwap(v, v&^readStateMask|readAbandoned)
}

// closeConn closes conn, the Conn of s (s is nil for a Conn no reader
// reads), and returns what its Close returned. Under a close limit it
// waits for Close at most that long: then it abandons the Conn (and the
// reader of s, if it is in a Read) and returns an error matching
// ErrConnAbandoned. Once Close has returned, the reader of s is watched:
// see watchReader.
func (c *Connector) closeConn(s *Session, conn transport.Conn, code transport.StatusCode, reason string) error {
	if c.closeLimit <= 0 {
		return conn.Close(code, reason)
	}
	ret := make(chan error, 1)
	go func() { ret <- conn.Close(code, reason) }()
	t := time.NewTimer(c.closeLimit)
	defer t.Stop()
	select {
	case err := <-ret:
		c.watchReader(s)
		return err
	case <-t.C:
	}
	err := fmt.Errorf("%w: its Close did not return within %v", ErrConnAbandoned, c.closeLimit)
	c.abandoned(err) // before the reader's place is released: Done waits for the report
	switch {
	case s == nil:
	case s.gate.abandon():
		s.gate.finish()
	default:
		c.watchReader(s) // delivering: watch its next Read
	}
	return err
}

// watchReader checks, every close limit, whether the reader of s has been
// in one same Read for the whole period, and abandons it then: its Conn
// was closed, and a Read that Close does not unblock would hold the next
// reader and the shutdown for ever. A reader delivering to the program is
// not abandoned (that is the program's code, which Done waits for).
func (c *Connector) watchReader(s *Session) {
	if s == nil || s.gate.finish == nil {
		return
	}
	g := &s.gate
	g.watchMu.Lock()
	defer g.watchMu.Unlock()
	st := g.rstate.Load() & readStateMask
	if g.watch != nil || st == readExited || st == readAbandoned {
		return
	}
	g.seen = g.rstate.Load()
	g.watch = time.AfterFunc(c.closeLimit, func() {
		if g.check(c.closeLimit) {
			c.abandoned(fmt.Errorf("%w: its Read did not return within %v of its Close", ErrConnAbandoned, c.closeLimit))
			g.finish() // after the report: Done waits for it
		}
	})
}

// check is the watch of watchReader: it abandons the reader if it is in
// the Read it was in when the watch was armed, and reports whether it did;
// otherwise it arms the watch again, unless the reader has returned.
func (g *readerGate) check(limit time.Duration) bool {
	g.watchMu.Lock()
	defer g.watchMu.Unlock()
	v := g.rstate.Load()
	switch st := v & readStateMask; {
	case st == readExited || st == readAbandoned:
		return false
	case v == g.seen && st == readBlocked:
		if g.rstate.CompareAndSwap(v, v&^readStateMask|readAbandoned) {
			return true
		}
		v = g.rstate.Load() // it returned just now
	}
	g.seen = v
	g.watch.Reset(limit)
	return false
}

// abandoned tells the hook.
func (c *Connector) abandoned(err error) {
	if c.onAbandon != nil {
		c.onAbandon(err)
	}
}
