package polling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/tether-go/tether/transport"
)

// maxControlPayload is the largest ping payload, as in WebSocket.
const maxControlPayload = 125

// conn is the [transport.Conn] that Dial returns. One poller goroutine
// fetches answers and hands each answer's messages to the reader as a batch
// through an unbuffered channel, so at most two answers are held in memory:
// the one being read and the one waiting to be taken.
type conn struct {
	o           *options
	r           *requester
	ep          endpoints
	subprotocol string

	ctx    context.Context // ends with the Conn: aborts every request
	cancel context.CancelFunc
	done   chan struct{}
	inbox  chan batch     // poller to reader, unbuffered
	wake   chan struct{}  // Ping to poller, buffer of one
	sendMu chan struct{}  // one send at a time, buffer of one
	wg     sync.WaitGroup // the poller, and POSTs that may outlive their Write
	// unacked counts the messages whose Write returned nil while their POST
	// went on in the background, not answered with a 2xx yet (a failed one
	// stays counted: it never was).
	unacked atomic.Int32

	mu          sync.Mutex
	err         error // how the Conn ended; nil while up
	closed      bool  // Close was called
	pongWanted  bool
	pingPayload []byte

	// Poller state, touched only by the poller goroutine.
	etag, lastModified string

	// Reader state, touched only by the goroutine that calls Read.
	cur batch
}

var (
	_ transport.Conn      = (*conn)(nil)
	_ transport.Confirmer = (*conn)(nil)
)

// Unconfirmed returns how many messages Write accepted that the server
// has not acknowledged ([transport.Confirmer]): Write returns nil once the
// POST was answered with a 2xx, so only those whose caller stopped waiting
// while their POST went on in the background can be. A client therefore
// never reports a message the server acknowledged as possibly lost.
func (c *conn) Unconfirmed() int { return int(c.unacked.Load()) }

func newConn(o *options, r *requester, ep endpoints, proto string, first http.Header, msgs batch) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		o: o, r: r, ep: ep, subprotocol: proto,
		ctx: ctx, cancel: cancel,
		done:   make(chan struct{}),
		inbox:  make(chan batch),
		wake:   make(chan struct{}, 1),
		sendMu: make(chan struct{}, 1),
		cur:    msgs,
	}
	c.remember(first)
	wait := o.interval
	if o.longPoll > 0 {
		wait = 0
	}
	c.wg.Add(1)
	go c.run(wait)
	return c
}

// Read returns the next message: the elements of each answer in order (see
// [Format]), and a [transport.Pong] after the first successful poll that
// started after a Ping. The payload is borrowed until the next Read.
//
// When the Conn ends by itself, Read first returns what was already
// fetched, then the error: a [*transport.CloseError] with code 1006 (Remote
// true) wrapping a [*PollError] after too many failed polls, 1008 wrapping a
// [*PollError] for a poll refused with 401 or 403, 1006 wrapping the
// [*SendError] or network error of a POST that failed after its Write had
// returned (see Write), or 1002, 1007 or 1009 for an answer it cannot
// deliver (wrapping [transport.ErrProtocol], [transport.ErrInvalidUTF8] or
// [transport.ErrMessageTooLarge]). After Close
// it likewise returns what was already fetched (so a Disconnect loses none
// of it, and a client that closed reports it), then Err: the local
// [*transport.CloseError], or how the Conn had ended before Close.
//
// Only one goroutine may call Read.
func (c *conn) Read() (transport.Message, error) {
	for {
		if m, ok := c.cur.next(); ok {
			return m, nil
		}
		if closed, err := c.state(); closed {
			return transport.Message{}, err
		}
		select {
		case b := <-c.inbox:
			c.cur = b
		case <-c.done:
			_, err := c.state()
			return transport.Message{}, err
		}
	}
}

// Ping asks for a sign of life: the poller polls at once (unless it is
// backing off after failures), and the first poll that starts after this
// call and succeeds (200, 204 or 304) makes Read return a
// [transport.Pong] carrying payload. Pings that come before that poll
// starts share one Pong, with the latest payload. payload is at most 125
// bytes, as in WebSocket.
//
// Safe for concurrent use.
func (c *conn) Ping(ctx context.Context, payload []byte) error {
	if len(payload) > maxControlPayload {
		return fmt.Errorf("tether/polling: ping payload of %d bytes: %w", len(payload), transport.ErrProtocol)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.endedErr()
	}
	c.pongWanted = true
	c.pingPayload = append([]byte(nil), payload...)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// Close stops polling, aborts the requests in flight (a pending Write
// returns [transport.ErrClosed]; a POST finished in the background for a
// Write that returned may or may not have reached the server) and returns
// once the poller goroutine, and the goroutine of such a POST, have
// returned. Polling has no close handshake, so every code ends the Conn at
// once, whether [transport.StatusCode.Sendable] or not: Err and Read then
// report a [*transport.CloseError] with code and reason, Remote false.
// Nothing is sent to the server. From the first call on, Write and Ping
// return [transport.ErrClosed], also when the Conn had ended before.
//
// Safe from any goroutine, any number of times; calls after the first
// return nil and change nothing, and so do calls once the Conn has ended,
// but for ErrClosed.
func (c *conn) Close(code transport.StatusCode, reason string) error {
	c.end(&transport.CloseError{Code: code, Reason: reason}, true)
	c.wg.Wait()
	return nil
}

// Done is closed when the Conn has ended.
//
// Safe from any goroutine.
func (c *conn) Done() <-chan struct{} { return c.done }

// Err reports how the Conn ended, or nil while it is up.
//
// Safe from any goroutine.
func (c *conn) Err() error {
	_, err := c.state()
	return err
}

// Subprotocol returns the subprotocol the server selected in Dial's answer
// (see [WithSubprotocolHeader]), or "".
//
// Safe from any goroutine.
func (c *conn) Subprotocol() string { return c.subprotocol }

// end ends the Conn with err unless it has ended, and reports whether this
// call ended it. byClose says Close called it, which counts even when the
// Conn had ended.
func (c *conn) end(err error, byClose bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = c.closed || byClose
	if c.err != nil {
		return false
	}
	c.err = err
	c.pongWanted, c.pingPayload = false, nil
	close(c.done)
	c.cancel()
	return true
}

// state reports whether Close was called, and how the Conn ended.
func (c *conn) state() (closed bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed, c.err
}

// endedErr is what Write and Ping return once the Conn has ended:
// [transport.ErrClosed] after Close, the Conn's error otherwise. nil while
// the Conn is up.
func (c *conn) endedErr() error {
	closed, err := c.state()
	if closed {
		return transport.ErrClosed
	}
	return err
}

// unsentErr is endedErr for a Write that sent nothing: it matches
// transport.ErrClosed, so that the caller may send the message on another
// connection, and, when the Conn ended on its own (a failed poll, a refused
// answer), its end error too.
func (c *conn) unsentErr() error {
	err := c.endedErr()
	if err == nil || errors.Is(err, transport.ErrClosed) {
		return err
	}
	return fmt.Errorf("tether/polling: write: %w: %w", transport.ErrClosed, err)
}

// takePong claims the pending ping, if any, for the poll about to start.
func (c *conn) takePong() (bool, []byte) {
	select { // this poll answers the wake-up too
	case <-c.wake:
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	want, p := c.pongWanted, c.pingPayload
	c.pongWanted, c.pingPayload = false, nil
	return want, p
}

// restorePong gives back a ping claimed by a poll that failed, unless a
// newer ping is pending.
func (c *conn) restorePong(want bool, payload []byte) {
	if !want {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !c.pongWanted {
		c.pongWanted, c.pingPayload = true, payload
	}
}
