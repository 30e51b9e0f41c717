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
// connection's Close to return, for its reader's Read to return once
// Close has returned, and for Read to stop handing out messages after
// that. A Conn that takes longer is abandoned: the Close is
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

// The reader's gate, Session.gate.flag: the reader reads it (one atomic
// load) after each Read, which costs the hot path next to nothing; the
// close limit sets it only to give a reader up.
const (
	gateOpen      = 0 // nothing to see
	gateSuspect   = 1 // the close limit is about to give the reader up: the reader clears it if it sees it
	gateAbandoned = 2 // given up: the reader must deliver nothing more
)

// readerGate is the part of a Session that the reader and the close limit
// share.
type readerGate struct {
	flag   atomic.Uint32
	finish func() // releases the reader's place (its done channel, readers); once

	watchMu sync.Mutex
	watch   *time.Timer // watchReader's timer, or nil
	exited  bool        // the reader returned; under watchMu
	seenR   uint64      // Session.ReadProgress when the watch was armed (or re-armed)
	seenW   bool
}

// pass reports whether the reader may use what its Read returned: false
// once the close limit gave it up. A suspicion it finds is cleared: the
// reader is alive.
func (g *readerGate) pass() bool {
	for {
		switch g.flag.Load() {
		case gateOpen:
			return true
		case gateAbandoned:
			return false
		}
		if g.flag.CompareAndSwap(gateSuspect, gateOpen) {
			return true
		}
	}
}

// LastFlush reports whether the flush under way (see WithFlushHandler) is
// the reader's last: its connection has ended, or it was given up, and
// nothing more will be read from it. What the reader counted is then
// final.
func (s *Session) LastFlush() bool { return s.lastFlush.Load() }

// pastCloseLimit reports whether the Conn's Close returned more than limit
// ago (never under no limit): a Read that still returns messages then is
// one its Close does not end.
func (s *Session) pastCloseLimit(limit time.Duration) bool {
	at := s.closeReturned.Load()
	return at != 0 && limit > 0 && time.Since(time.Unix(0, at)) > limit
}

// Abandoned reports whether the close limit gave the session's reader up
// (see WithCloseLimit): its connection counts as ended, whatever its Err
// says, and its reader delivers nothing more.
func (s *Session) Abandoned() bool { return s.gate.flag.Load() == gateAbandoned }

// readerExited records that the reader returned and stops its watch.
func (g *readerGate) readerExited() {
	g.watchMu.Lock()
	defer g.watchMu.Unlock()
	g.exited = true
	if g.watch != nil {
		g.watch.Stop()
	}
}

// abandon gives up the reader of s if it is in a Read (waiting for the
// network) and, when same is set, the one it was in when the watch was
// armed; it reports whether it did. The caller reports it, then releases
// the reader's place (finish), so that the report comes before Done.
//
// The suspicion comes first, then a second look: a reader still in that
// Read after the flag was set has not looked at it yet, and will see it
// when its Read returns; one that returned meanwhile cleared it.
func (s *Session) abandon(same bool) bool {
	g := &s.gate
	r, w := s.ReadProgress()
	if !w || (same && (r != g.seenR || !g.seenW)) {
		return false
	}
	if !g.flag.CompareAndSwap(gateOpen, gateSuspect) {
		return false
	}
	if r2, w2 := s.ReadProgress(); w2 && r2 == r && g.flag.CompareAndSwap(gateSuspect, gateAbandoned) {
		return true
	}
	g.flag.CompareAndSwap(gateSuspect, gateOpen)
	return false
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
		if s != nil {
			s.closeReturned.Store(time.Now().UnixNano())
		}
		c.watchReader(s)
		return err
	case <-t.C:
	}
	err := fmt.Errorf("%w: its Close did not return within %v", ErrConnAbandoned, c.closeLimit)
	c.abandoned(err) // before the reader's place is released: Done waits for the report
	if s != nil && s.gate.finish != nil {
		if s.abandonNow() {
			c.release(s)
		} else {
			c.watchReader(s) // delivering, or gone: watch its next Read
		}
	}
	return err
}

// abandonNow is abandon under the watch's lock, for a reader in any Read.
func (s *Session) abandonNow() bool {
	s.gate.watchMu.Lock()
	defer s.gate.watchMu.Unlock()
	return !s.gate.exited && s.abandon(false)
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
	if g.watch != nil || g.exited || g.flag.Load() == gateAbandoned {
		return
	}
	g.seenR, g.seenW = s.ReadProgress()
	g.watch = time.AfterFunc(c.closeLimit, func() {
		if s.check(c.closeLimit) {
			c.abandoned(fmt.Errorf("%w: its Read did not return within %v of its Close", ErrConnAbandoned, c.closeLimit))
			c.release(s) // after the report: Done waits for it
		}
	})
}

// check is the watch of watchReader: it abandons the reader if it is in
// the Read it was in when the watch was armed, and reports whether it did;
// otherwise it arms the watch again, unless the reader has returned.
func (s *Session) check(limit time.Duration) bool {
	g := &s.gate
	g.watchMu.Lock()
	defer g.watchMu.Unlock()
	if g.exited || g.flag.Load() == gateAbandoned {
		return false
	}
	if s.abandon(true) {
		return true
	}
	g.seenR, g.seenW = s.ReadProgress()
	g.watch.Reset(limit)
	return false
}

// release does, for a reader given up in its Read, what the reader would
// have done on its way out: the last flush (see WithFlushHandler), so that
// what it gathered, and what it counted as dropped, is handed on and
// reported, not lost; then it frees the reader's place, so the next reader
// starts and Done can close. The reader touches nothing more once given up.
func (c *Connector) release(s *Session) {
	s.lastFlush.Store(true)
	if c.onFlush != nil {
		c.onFlush(s)
	}
	s.gate.finish()
}

// abandoned tells the hook.
func (c *Connector) abandoned(err error) {
	if c.onAbandon != nil {
		c.onAbandon(err)
	}
}
