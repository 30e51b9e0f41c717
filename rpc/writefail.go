package rpc

import (
	"context"
	"errors"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// writeFailed ends, or leaves to be sent again, the request whose write
// returned err:
//
//   - the caller's ctx ended the write: Cancelled;
//   - the tether client refused the request before writing any of it
//     (see unwritten): Unsent, with err (matching ErrClosed too when the
//     tether client had closed);
//   - anything else is the connection failing during the write (tether's
//     Client.Send returns such an error as its only report): the request
//     may have arrived. One that is not Idempotent (or is a stage's) ends
//     Lost, its error matching ErrLost and err. An Idempotent one stays
//     Pending on the connection it was handed to; when the watcher sees
//     that connection end it is sent again on the next, as for any
//     request whose connection ended (a transport that keeps the
//     connection up after a failed write, as HTTP polling does after a
//     refused POST, leaves it waiting for the next connection, at most
//     until its timeout).
//
// When the request was done already (its timeout, say, which ends the
// write), nothing changes.
func (r *Request) writeFailed(err error) {
	if cause := context.Cause(r.caller); cause != nil {
		r.fire(fsm.InputOf[RequestEvent]{Event: EventCancel, Cause: cause})
		return
	}
	switch {
	case unwritten(err):
		r.fire(fsm.InputOf[RequestEvent]{Event: EventSendFailed, Cause: closedCause(err)})
	case r.idempotent && !r.direct:
		r.c.mu.Lock()
		r.wrote = true // should the tether client close first: Lost, not Unsent
		r.c.mu.Unlock()
	default:
		r.fire(fsm.InputOf[RequestEvent]{Event: EventLost, Cause: lost(err)})
	}
}

// unwritten reports whether err, from the tether client's Send or a
// stage's Send, says that nothing of the message was written: the client
// was closed (tether.ErrClosed), the message could not be encoded
// (*stream.EncodeError, tether.ErrUnsendableType, tether.ErrInvalidUTF8),
// the send buffer refused it (tether.ErrTooLargeToQueue,
// tether.ErrBufferFull), or the connection had closed before the write
// (transport.ErrClosed) or refused its type (transport.ErrUnsupported).
// Any other error is a connection failing during the write.
func unwritten(err error) bool {
	if _, ok := errors.AsType[*stream.EncodeError](err); ok {
		return true
	}
	for _, target := range []error{tether.ErrClosed, tether.ErrUnsendableType, tether.ErrInvalidUTF8,
		tether.ErrTooLargeToQueue, tether.ErrBufferFull, transport.ErrClosed, transport.ErrUnsupported} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
