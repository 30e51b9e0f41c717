package tether

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/tether-go/tether/adapters"
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
// the connection), an error matching transport.ErrUnsupported when the
// open connection cannot carry a message at all (a polling transport made
// without a send URL: nothing was written, the connection stays up, and a
// queued message meets the same refusal as an OnDrop report), an *InvalidUTF8Error
// (ErrInvalidUTF8) when a text message is not valid UTF-8 (RFC 6455 forbids
// it; send []byte for arbitrary bytes), ctx's error when ctx ends while
// Send waits (for room in the buffer, for a confirmation, for its turn to
// write: the message is not sent; a WebSocket message already being written
// when ctx ends is finished in the background and Send returns nil, and the
// connection is never failed by a ctx; when reading was paused meanwhile
// for a first consumer of the messages received, so that the peer's
// confirmations went unread too, the error also matches ErrNoConsumer),
// and, when the connection fails while the message itself is being
// written (a reset mid-write, say), an error matching ErrPossiblyLost and
// the connection's error: the message may or may not have arrived, it is
// not queued again, and the error returned is its only report. A connection that fails or closes before
// it accepts this message is not an error: the message waits in the buffer
// for the next connection, as any message sent while disconnected.
// (Messages whose Send returned nil before, and which the failure caught
// on their way out, are reported as possibly lost; see OnDrop.)
func (c *Client[T]) Send(ctx context.Context, v any) error {
	_, err := c.SendID(ctx, v)
	return err
}

// SendBinary sends p as a binary message: Send(ctx, p) without passing p
// as an any, which costs an allocation a message (Go boxes a slice put in
// an interface that outlives the call, and Send keeps its value for drop
// reports). While the connection is open and nothing is queued the client
// allocates nothing for it (the WebSocket transport allocates only now and
// then, when it starts a goroutine to flush a backlog). Everything else is
// as Send says: the same buffer, order, accounting and errors.
//
// p may be reused once SendBinary returns: a message that must wait is
// copied into the buffer, and one written at once has left p. Drop reports
// carry p as their Value (a queued message's buffered copy); a message
// written at once and reported later (possibly lost) carries p itself, so
// if you reuse p, its Value holds whatever p holds by then, and reading it
// while you write into p is a data race: use the report's ID and Size, or
// send a copy you do not reuse.
func (c *Client[T]) SendBinary(ctx context.Context, p []byte) error {
	if c.closing() {
		return ErrClosed
	}
	_, err := c.sendPayload(ctx, transport.Binary, p, adapters.PayloadValue(p, false), nil)
	return err
}

// SendText sends s as a text message, as Send(ctx, s) does, with one
// allocation fewer: the copy of s into the message is the only one. It
// returns an *InvalidUTF8Error (ErrInvalidUTF8) when s is not valid UTF-8,
// before anything is written; drop reports carry s as their Value.
func (c *Client[T]) SendText(ctx context.Context, s string) error {
	if c.closing() {
		return ErrClosed
	}
	if !utf8.ValidString(s) {
		return invalidUTF8([]byte(s))
	}
	p := []byte(s)
	_, err := c.sendPayload(ctx, transport.Text, p, adapters.PayloadValue(p, true), nil)
	return err
}

// closing reports whether Close was called: Send and its kin refuse with
// ErrClosed.
func (c *Client[T]) closing() bool {
	st := c.m.State()
	return st == fsm.Closing || st == fsm.Closed
}

// sendPayload sends an encoded message whose drop reports carry value;
// onWrite is SendTracked's, or nil.
func (c *Client[T]) sendPayload(ctx context.Context, typ transport.MessageType, payload []byte, value any, onWrite func(uint64)) (uint64, error) {
	id, err := c.out.SendTracked(ctx, typ, payload, value, onWrite)
	if err == nil {
		c.stats.sent(len(payload))
	} else if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) && c.readerPaused() {
		err = fmt.Errorf("tether: Send waited while reading was paused, so the server's confirmations were not read either: %w: %w", ErrNoConsumer, err)
	}
	return id, err
}

// readerPaused reports whether the reader waits for a first consumer of
// the messages it holds (WithHold): then no pong is read, and a Send
// waiting for the peer's confirmation waits for a consumer. A Send that
// its ctx ended then says so (an outside review's send-only client
// stopped at 32,768 Sends, each then a bare "context deadline exceeded").
func (c *Client[T]) readerPaused() bool {
	if !c.holding() || !c.IsConnected() {
		// Disconnected, a Send waits for the next connection, not for a
		// consumer (a later outside review saw a full hold from an ended
		// connection blamed).
		return false
	}
	c.feedMu.Lock()
	defer c.feedMu.Unlock()
	return c.cfg.hold > 0 && c.holdFull()
}

// SendID is Send that also returns the message's identity, the ID that drop
// reports (*DropError, OnDrop) carry.
func (c *Client[T]) SendID(ctx context.Context, v any) (uint64, error) {
	return c.SendTracked(ctx, v, nil)
}

// SendTracked is SendID that also says which connection took the message,
// for a layer that must know whether a message went out on a connection
// that then ended (package rpc uses it, so that it never reports a
// request lost and then sends it on the next connection). onWrite, when
// not nil, is called once with the epoch of the connection the message
// was written to (the Epoch of its transitions, fsm.Transition.Epoch),
// right after the write, or after a write that failed once the message
// may have gone out. It runs on the goroutine that wrote the message:
// inside SendTracked when the message is written at once, later on the
// client's flusher when it waited in the send buffer. It is never called
// for a message that was not written: one Send refused, or that was
// dropped (OnDrop reports it). It must be quick, must not block and must
// not call the client.
func (c *Client[T]) SendTracked(ctx context.Context, v any, onWrite func(epoch uint64)) (uint64, error) {
	if c.closing() {
		return 0, ErrClosed
	}
	typ, payload, err := c.encode(v)
	if err != nil {
		return 0, err
	}
	return c.sendPayload(ctx, typ, payload, v, onWrite)
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
