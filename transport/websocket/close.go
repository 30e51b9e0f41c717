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
// A pending Read sees the peer's answer and returns the *CloseError that
// Err reports; when no Read is in progress, Close reads the answer itself.
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

// awaitPeerClose waits for the peer's close frame after ours went out. If
// a Read is in progress, that reader sees the frame; otherwise this reads
// and discards frames itself. It ends the connection with onTime, with
// late when the close timeout runs out first (and reports that), or, when
// the stream fails before the answer, with a 1006 *CloseError carrying the
// read error: the peer never answered. When it
// reads by itself, it ends the connection before it lets a Read in, so that
// Read finds the connection ended rather than a stream at its deadline.
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
			var failed error
			timedOut, failed = c.readCloseAnswer(deadline)
			if failed != nil {
				c.end(&transport.CloseError{Code: transport.StatusAbnormalClosure, Err: failed})
			}
			finish(timedOut)
			c.readMu.Unlock()
			return timedOut
		}
		select {
		case <-c.peerClosed:
		case <-c.done:
		case <-expire:
			timedOut = true
		case <-c.readerLeft:
			// The reader returned to its caller: try to read ourselves.
			continue
		}
		finish(timedOut)
		return timedOut
	}
}

// readCloseAnswer reads the peer's answer on the goroutine of Close, which
// holds readMu. It reports a timeout, or the error that ended the stream
// before the answer came.
func (c *conn) readCloseAnswer(deadline time.Time) (timedOut bool, failed error) {
	select {
	case <-c.done:
		return false, nil
	default:
	}
	_ = c.nc.SetReadDeadline(deadline)
	err := c.readUntilClose()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true, nil
	}
	return false, err
}

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
	err := c.w.sendClose(f.err.Code, closeReasons[f.err.Code], deadline, timer.C)
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
