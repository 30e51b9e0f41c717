package websocket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/tether-go/tether/transport"
)

// Close runs the close handshake: it sends a close frame with code and
// reason through the writer (after the writes already under way), waits
// for the peer's close frame, and closes the network connection. All of it
// is bounded by the close timeout; when that runs out the connection is
// dropped and Close returns an error matching [transport.ErrTimeout]. A
// reason longer than 123 bytes is cut on a rune boundary; invalid UTF-8 in
// it is replaced.
//
// A code that may not be sent on the wire ([transport.StatusCode.Sendable]
// false, such as 1006) aborts instead: no close frame, no wait; the network
// connection is closed at once and Err reports a *CloseError with that code.
//
// The peer may still send data messages before it answers. A reader that
// keeps calling Read gets every one of them, in order, then the
// *CloseError that Err reports: a Read in progress reads them as usual,
// and whenever no Read is in progress Close reads ahead and keeps them for
// the Reads to come, which return them also after Close has returned.
// Close keeps up to 1 MiB of them (or one larger message); past that it
// waits for the reader to take some, until the close timeout, or, on a
// connection whose Read was never called (nor ExpectReader, which says a
// reader is coming; see [transport.ReaderExpecter]), throws the rest away
// up to the answer and counts them (see Discarded and
// [transport.DiscardsOf]). After ReleaseReader (nothing read is wanted any
// more) it keeps none: whatever no Read is in progress for is thrown away
// and counted as it is read, up to the answer. What
// is still on its way when the close timeout runs out is lost with the
// connection, and Close reports the timeout.
//
// On a connection the reader has failed (1002, 1007 or 1009; see Read),
// Close waits, within the close timeout, only for that close frame to be
// written, then closes the network connection without waiting any more for
// the peer to hang up, and returns nil; Err keeps reporting the reader's
// *CloseError, with its code.
//
// Safe from any goroutine, any number of times; calls after the first
// return nil at once.
func (c *conn) Close(code transport.StatusCode, reason string) error {
	if !c.closeCalled.CompareAndSwap(false, true) {
		return nil
	}
	defer c.wg.Wait()
	if !code.Sendable() {
		c.end(&transport.CloseError{Code: code, Reason: reason})
		return nil
	}
	timeout := c.opts.closeTimeout
	deadline := time.Now().Add(timeout)
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	reason = transport.CloseReason(reason)
	local := &transport.CloseError{Code: code, Reason: reason}
	late := &transport.CloseError{Code: code, Reason: reason,
		Err: &transport.TimeoutError{Phase: "close", After: timeout}}

	if !c.claimClose(local) {
		if f := c.failing.Load(); f != nil {
			// The reader failed the connection: its close frame goes out
			// first, then the wait for the peer (see fail) is cut short.
			select {
			case <-f.sent:
			case <-c.done:
			case <-timer.C:
			}
			c.end(f.err)
			return nil
		}
		// The reader is closing already (the peer closed), or the
		// connection has ended: wait for the end.
		select {
		case <-c.done:
		case <-timer.C:
			c.end(c.sentClose())
		}
		return nil
	}
	if err := c.w.sendClose(code, reason, deadline, timer.C); err != nil {
		select {
		case <-c.done:
			// The peer's close crossed ours, or the connection failed.
			return nil
		default:
		}
		var ne net.Error
		if errors.Is(err, errExpired) || errors.As(err, &ne) && ne.Timeout() {
			c.end(late)
			return fmt.Errorf("tether/websocket: close: %w", late.Err)
		}
		c.end(&transport.CloseError{Code: code, Reason: reason, Err: err})
		return fmt.Errorf("tether/websocket: close: %w", err)
	}
	if c.awaitPeerClose(deadline, timer.C, local, late) {
		return fmt.Errorf("tether/websocket: close: %w", late.Err)
	}
	if ce, ok := errors.AsType[*transport.CloseError](c.Err()); ok && ce.Err != nil {
		// The connection failed before the peer answered (it dropped the
		// TCP connection, say): no handshake took place.
		return fmt.Errorf("tether/websocket: close: %w", ce)
	}
	return nil
}

// awaitPeerClose waits for the peer's close frame after ours went out,
// and makes sure that the data messages the peer sends before it reach a
// reader that keeps reading. While a Read is in progress, that reader
// reads them, and the peer's frame. Whenever no Read is in progress, this
// reads ahead for the reader (see readAhead), keeping the messages for
// the Reads to come, up to closeHoldLimit; past it, it waits for the
// reader to take them, or, when no Read was ever called (nor
// ExpectReader), throws the rest away and counts them (see Discarded).
//
// It ends the connection with onTime, with late when the close timeout
// runs out first (and reports that), or, when the stream fails before the
// answer, with a 1006 *CloseError carrying the read error: the peer never
// answered. When it reads by itself, it ends the connection before it
// lets a Read in, so that Read finds the connection ended rather than a
// stream at its deadline.
func (c *conn) awaitPeerClose(deadline time.Time, expire <-chan time.Time, onTime, late *transport.CloseError) (timedOut bool) {
	finish := func(timedOut bool) {
		if timedOut {
			c.end(late)
		} else {
			c.end(onTime)
		}
	}
	for {
		if c.readMu.TryLock() {
			stop := c.readAhead(deadline)
			if stop != aheadYield && stop != aheadFull {
				finish(stop == aheadTimedOut)
				c.readMu.Unlock()
				return stop == aheadTimedOut
			}
			c.readMu.Unlock()
		}
		select {
		case <-c.peerClosed:
		case <-c.done:
		case <-expire:
			timedOut = true
		case <-c.readerLeft:
			// A Read returned: read ahead while the reader is away.
			continue
		}
		finish(timedOut)
		return timedOut
	}
}

// aheadStop says why readAhead stopped.
type aheadStop uint8

const (
	aheadEnded    aheadStop = iota // the connection ended: the peer's answer, or a failure
	aheadTimedOut                  // the close timeout ran out
	aheadYield                     // a Read is waiting for the input
	aheadFull                      // the messages kept for the reader reached closeHoldLimit
)

// closeHoldLimit bounds the data messages Close reads ahead and keeps for
// the reader (see awaitPeerClose): their payloads, plus heldOverhead each.
// A message is kept when none is, whatever its size (up to the message
// size limit).
const closeHoldLimit = 1 << 20

// heldOverhead is what one kept message counts for beside its payload.
const heldOverhead = 64

// readAhead reads the peer's input on Close's goroutine, which holds
// readMu, while the reader is not reading: the data messages go to held
// for the Reads to come, pings and pongs are read past, and the peer's
// close frame ends the connection. It stops when a Read waits for readMu,
// between two messages; when held is full and a Read was ever called or
// ExpectReader was (the reader takes them, or the close timeout runs out
// first); at the end of the connection; or at deadline. When held is full
// and there is no reader, it throws away everything up to the peer's close frame, counting
// the data messages (see discardUntilClose).
func (c *conn) readAhead(deadline time.Time) aheadStop {
	select {
	case <-c.done:
		return aheadEnded
	default:
	}
	_ = c.nc.SetReadDeadline(deadline)
	c.ahead = true
	defer func() { c.ahead = false }()
	if !c.frag {
		// The reader may still hold the payload its last Read returned.
		c.buf = nil
	}
	for {
		released := c.released.Load()
		if c.readerWaiting.Load() || (!released && c.heldBytes >= closeHoldLimit && c.readCalled.Load()) {
			// The input is the reader's again, without Close's deadline.
			_ = c.nc.SetReadDeadline(time.Time{})
			if c.heldBytes >= closeHoldLimit {
				return aheadFull
			}
			return aheadYield
		}
		if released || c.heldBytes >= closeHoldLimit {
			err := c.discardUntilClose()
			var ne net.Error
			switch {
			case err == nil:
				return aheadEnded // finish ends it with the close we sent
			case errors.As(err, &ne) && ne.Timeout():
				return aheadTimedOut
			}
			c.end(&transport.CloseError{Code: transport.StatusAbnormalClosure, Err: err})
			return aheadEnded
		}
		m, err := c.next()
		if err != nil {
			if c.aheadTimedOut {
				c.aheadTimedOut = false
				return aheadTimedOut
			}
			return aheadEnded
		}
		c.held = append(c.held, m)
		c.heldBytes += len(m.Payload) + heldOverhead
		c.buf = nil // the message is held's now
	}
}

// popHeld returns the oldest message Close read ahead, if any. It runs
// under readMu, on the reader.
func (c *conn) popHeld() (transport.Message, bool) {
	if c.heldHead == len(c.held) {
		return transport.Message{}, false
	}
	m := c.held[c.heldHead]
	c.held[c.heldHead] = transport.Message{}
	c.heldHead++
	c.heldBytes -= len(m.Payload) + heldOverhead
	if c.heldHead == len(c.held) {
		c.held, c.heldHead = nil, 0
	}
	return m, true
}

// ExpectReader says a reader will call Read until the end (see
// [transport.ReaderExpecter]): from now on Close, when it has read ahead
// all it keeps, waits for that reader to take the messages (until the
// close timeout) rather than throw the rest away, as it does from the
// first Read on. Safe from any goroutine; it never blocks.
func (c *conn) ExpectReader() { c.readCalled.Store(true) }

// ReleaseReader says nothing read from now on is wanted (see
// [transport.ReaderReleaser]): Close then throws what the peer sends before
// its answer away as it reads it, counted in Discarded, instead of keeping
// it for a reader or waiting for one. A Read in progress or to come still
// returns what it reads. Safe from any goroutine; it never blocks.
func (c *conn) ReleaseReader() { c.released.Store(true) }

// Discarded reports how many data messages this connection has read and
// thrown away without Read returning them (see [transport.DiscardCounter]):
// those the peer sent before answering our close frame, past what Close
// keeps for a reader, when no Read was ever called and ExpectReader was
// not either (see Close); and those the socket still held when the
// connection ended abnormally (an abort with 1006, a failed write) while
// no Read was in progress, read for at most 10 ms then. After a reset the
// kernel may have thrown away what it held: that is lost with the
// connection, and nobody can count it. Safe from
// any goroutine; it never blocks.
func (c *conn) Discarded() uint64 { return c.discarded.Load() }

// failure is a connection the reader is failing (see failWith).
type failure struct {
	err  *transport.CloseError // what Err reports from the start
	sent chan struct{}         // closed once the close frame is written, or its write gave up
}

// fail finishes failing the connection, on a goroutine of its own counted
// in wg, once failWith has returned the error to the reader. It sends the
// close frame with f's code through the writer, then lets the peer read it
// before the connection goes (closing with unread input would reset the
// connection, and the reset could lose the close frame): it discards what
// the peer still sends until the peer closes the TCP connection. The close
// timeout bounds all of it, and Close cuts the wait short. It ends the
// connection with f.err.
func (c *conn) fail(f *failure) {
	defer c.wg.Done()
	deadline := time.Now().Add(c.opts.closeTimeout)
	timer := time.NewTimer(c.opts.closeTimeout)
	err := c.w.sendClose(f.err.Code, closeReason(f.err), deadline, timer.C)
	timer.Stop()
	close(f.sent)
	if err == nil {
		// Read no longer reads (it returns f.err at once): the input is
		// this goroutine's, once the Read that failed has let go of it.
		c.readMu.Lock()
		_ = c.nc.SetReadDeadline(deadline)
		_, _ = io.Copy(io.Discard, c.rd)
		c.readMu.Unlock()
	}
	c.end(f.err)
}
