package polling

import (
	"context"
	"fmt"
	"net/http"

	"github.com/tether-go/tether/transport"
)

// Write POSTs payload to the send URL (see [WithSendPath]) with the
// target's headers, Content-Type "application/json" for Text in the
// [JSONArray] format, "text/plain; charset=utf-8" for Text in [WholeBody],
// and "application/octet-stream" for Binary. It returns nil for a 2xx
// answer (whatever its headers) and a [*SendError] for another status; the
// Conn stays up either way, and a network error is returned as it is.
//
// Writes are serialised: one POST at a time, in the order they got their
// turn, so messages from one goroutine arrive in order. ctx bounds the
// caller's wait, never the POST, and never fails the Conn:
//
//   - If ctx ends before the Write gets its turn (while another POST is in
//     flight), or has ended when it gets it, Write returns an error
//     matching ctx.Err() and sends nothing.
//   - If ctx ends once the POST has started, the message is committed:
//     Write returns nil at once, and the POST is finished in the
//     background, as the WebSocket transport finishes a message it has
//     begun. The next Write waits for it, so messages stay in order, and
//     the server gets the message once: a caller that retries only on an
//     error never sends it twice. Nobody waits for that POST's answer, so
//     a failure (a status other than 2xx, a network error, the request
//     timeout) ends the Conn with close 1006 (Remote true) wrapping the
//     [*SendError] or the network error: the client then reports the
//     message as possibly lost instead of losing it silently.
//
// The request timeout bounds every POST, and Close aborts the one in
// flight. Without [WithSendPath], Write returns [ErrSendNotConfigured]
// (which matches [transport.ErrUnsupported]); for types other than Text and
// Binary it returns an error matching [transport.ErrUnsupported]; once the
// Conn has ended (Close among the ways), an error matching
// [transport.ErrClosed] for a Write that sent nothing (and the Conn's end
// error too when it ended on its own: a failed poll, say), and an error
// matching [ErrSendInterrupted] for one whose POST the end aborted: the
// server may have read it.
//
// Safe for concurrent use.
func (c *conn) Write(ctx context.Context, typ transport.MessageType, payload []byte) error {
	if !typ.IsData() {
		return fmt.Errorf("tether/polling: write %v: %w", typ, transport.ErrUnsupported)
	}
	if c.ep.send == nil {
		return ErrSendNotConfigured
	}
	if err := c.unsentErr(); err != nil {
		return err
	}
	select {
	case c.sendMu <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.unsentErr()
	}
	if err := ctx.Err(); err != nil { // the turn and the end came together
		<-c.sendMu
		return err
	}
	// net/http may read the body after Do returns: send a copy.
	body := append([]byte{}, payload...)
	if ctx.Done() == nil { // a ctx that cannot end: no goroutine
		defer func() { <-c.sendMu }()
		return c.post(typ, body)
	}
	if !c.startSend() {
		<-c.sendMu
		return c.unsentErr()
	}
	res := make(chan error)          // the POST's outcome, to a caller still waiting
	abandoned := make(chan struct{}) // closed when the caller stopped waiting
	go func() {
		defer c.wg.Done()
		err := c.post(typ, body)
		select {
		case res <- err:
			<-c.sendMu // the next Write may start
		case <-abandoned:
			if err == nil {
				c.unacked.Add(-1) // acknowledged after all, before the next Write starts
			}
			<-c.sendMu
			c.finishedInBackground(err)
		}
	}()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		select {
		case err := <-res: // it had finished
			return err
		default:
		}
		c.unacked.Add(1) // before the goroutine can see abandoned
		close(abandoned)
		return nil // committed: the POST goes on
	}
}

// post sends one message and waits for the answer. The request runs until
// its answer, the request timeout, or the end of the Conn.
func (c *conn) post(typ transport.MessageType, body []byte) error {
	extra := http.Header{"Content-Type": {c.contentType(typ)}}
	if ended := c.unsentErr(); ended != nil {
		return ended // nothing was sent: the message may go out elsewhere
	}
	a, err := c.r.do(c.ctx, http.MethodPost, c.ep.send, extra, body, c.o.requestTimeout, "send")
	if err != nil {
		if c.endedErr() != nil {
			// The end (Close among them) aborted the POST under way: the
			// server may have read it. Not ErrClosed, which says nothing
			// was sent and lets a client send it again.
			return fmt.Errorf("%w: %w", ErrSendInterrupted, err)
		}
		return err
	}
	if a.status/100 != 2 {
		return &SendError{StatusCode: a.status, Header: a.header, Body: excerpt(a.body), Err: a.cause}
	}
	return nil
}

// startSend counts a POST goroutine in c.wg, which Close waits for, unless
// the Conn has ended. Adding under c.mu while the Conn is up orders every
// Add before Close's Wait.
func (c *conn) startSend() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false
	}
	c.wg.Add(1)
	return true
}

// finishedInBackground ends the Conn when a POST whose caller stopped
// waiting failed: nobody else would learn that the message did not arrive.
func (c *conn) finishedInBackground(err error) {
	if err == nil || c.endedErr() != nil {
		return
	}
	c.end(&transport.CloseError{Code: transport.StatusAbnormalClosure, Remote: true,
		Err: fmt.Errorf("tether/polling: a send finished after its caller stopped waiting failed: %w", err)}, false)
}

func (c *conn) contentType(typ transport.MessageType) string {
	switch {
	case typ == transport.Binary:
		return "application/octet-stream"
	case c.o.format == JSONArray:
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}
