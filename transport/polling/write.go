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
// turn, so messages from one goroutine arrive in order. ctx bounds the wait
// for the turn and the request, as does the request timeout. Without
// [WithSendPath], Write returns [ErrSendNotConfigured] (which matches
// [transport.ErrUnsupported]); for types other than Text and Binary it
// returns an error matching [transport.ErrUnsupported]; after Close,
// [transport.ErrClosed].
//
// Safe for concurrent use.
func (c *conn) Write(ctx context.Context, typ transport.MessageType, payload []byte) error {
	if !typ.IsData() {
		return fmt.Errorf("tether/polling: write %v: %w", typ, transport.ErrUnsupported)
	}
	if c.ep.send == nil {
		return ErrSendNotConfigured
	}
	if err := c.endedErr(); err != nil {
		return err
	}
	select {
	case c.sendMu <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.endedErr()
	}
	defer func() { <-c.sendMu }()

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel) // Close aborts the POST
	defer stop()

	extra := http.Header{"Content-Type": {c.contentType(typ)}}
	// net/http may read the body after Do returns: send a copy.
	body := append([]byte{}, payload...)
	a, err := c.r.do(rctx, http.MethodPost, c.ep.send, extra, body, c.o.requestTimeout, "send")
	if err != nil {
		if ended := c.endedErr(); ended != nil {
			return ended
		}
		return err
	}
	if a.status/100 != 2 {
		return &SendError{StatusCode: a.status, Header: a.header, Body: excerpt(a.body), Err: a.headErr}
	}
	return nil
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
