package tether

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// Send sends v: a string as a text message, a []byte as a binary message,
// a transport.Message as the message type it names (Text or Binary: a
// Client[transport.Message] sends back what it receives, and any client
// chooses the frame type explicitly), anything else encoded by the codec
// (JSON by default). It is safe from many
// goroutines; one writer per connection keeps frames whole.
//
// While the connection is open and nothing is queued, v is written at once.
// Otherwise it waits in the outbound buffer and goes out, in order, after
// the next open; a full buffer behaves as WithSendBuffer's overflow policy
// says. A message written to the connection is kept until the peer
// confirms it (see docs/reliability.md); when 32,768 messages or 4 MiB wait
// for confirmation, Send waits for the peer's answer to a ping first.
//
// Send returns nil once the message is accepted: it is then confirmed, or
// reported to OnDrop (and on the error stream) if it is dropped or may have
// been lost. Otherwise it returns ErrClosed after Close, a
// *stream.EncodeError when the codec refuses v, ErrUnsendableType for a
// transport.Message that is not Text or Binary (control frames belong to
// the connection), an *InvalidUTF8Error
// (ErrInvalidUTF8) when a text message is not valid UTF-8 (RFC 6455 forbids
// it; send []byte for arbitrary bytes), ctx's error when ctx ends while
// Send waits (for room in the buffer, for a confirmation, for its turn to
// write: the message is not sent; a WebSocket message already being written
// when ctx ends is finished in the background and Send returns nil, and the
// connection is never failed by a ctx), and the connection's error when a direct
// write fails for another reason than the connection having closed first
// (a reset mid-write, say): the message may or may not have arrived, it is
// not queued again, and the error returned is its only report.
func (c *Client[T]) Send(ctx context.Context, v any) error {
	_, err := c.SendID(ctx, v)
	return err
}

// SendID is Send that also returns the message's identity, the ID that drop
// reports (*DropError, OnDrop) carry.
func (c *Client[T]) SendID(ctx context.Context, v any) (uint64, error) {
	if st := c.m.State(); st == fsm.Closing || st == fsm.Closed {
		return 0, ErrClosed
	}
	typ, payload, err := c.encode(v)
	if err != nil {
		return 0, err
	}
	id, err := c.out.Send(ctx, typ, payload, v)
	if err == nil {
		c.stats.sent(len(payload))
	}
	return id, err
}

// encode turns v into a message as Send describes: its frame type and
// payload, or why it cannot be sent.
func (c *Client[T]) encode(v any) (transport.MessageType, []byte, error) {
	var (
		typ     transport.MessageType
		payload []byte
	)
	switch x := v.(type) {
	case string:
		typ, payload = transport.Text, []byte(x)
	case []byte:
		typ, payload = transport.Binary, x
	case transport.Message:
		if x.Type != transport.Text && x.Type != transport.Binary {
			return 0, nil, fmt.Errorf("%w: %v (send Text or Binary)", ErrUnsendableType, x.Type)
		}
		typ, payload = x.Type, x.Payload
	default:
		p, binary, err := stream.Encode(c.cfg.codec, v)
		if err != nil {
			return 0, nil, err
		}
		typ, payload = transport.Text, p
		if binary {
			typ = transport.Binary
		}
	}
	if typ == transport.Text && !utf8.Valid(payload) {
		return 0, nil, invalidUTF8(payload)
	}
	return typ, payload, nil
}
