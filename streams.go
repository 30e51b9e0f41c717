package tether

import (
	"context"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
)

// Messages subscribes to decoded messages. Each subscription has its own
// bounded queue and overflow policy (stream.WithBuffer, stream.WithOverflow;
// default 256 and stream.Block): by default nothing is lost, and a
// subscriber that falls behind makes the reader wait, which slows the server
// down through TCP (the heartbeat does not count that wait against the
// peer). A subscriber that chooses a dropping policy by name has every drop
// counted (Dropped), and reported as a *SubscriberDropError on the error
// stream, to OnError and to the logger, aggregated per second.
//
// Each of Messages, Errors and Transitions can be read as an rxgo
// Observable through package github.com/tether-go/tether/rx, which is
// separate so that programs without Rx do not link rxgo.
//
// The first subscriber ever (of Messages, or of rx.Messages, which
// subscribes through it) also receives
// the messages held for it (see WithHold), ahead of the rest. A later one
// receives what the reader hands over after it subscribed. Each subscriber
// owns the values it receives. Close the subscription, or end ctx, to free
// it; after Client.Close it ends once its queue is read.
func (c *Client[T]) Messages(ctx context.Context, opts ...stream.SubOption) *stream.Subscription[T] {
	return firstConsumer(c, opts, func(opts []stream.SubOption) *stream.Subscription[T] {
		return c.messages.Subscribe(ctx, opts...)
	})
}

// Errors subscribes to the error stream: failed dials, drops, heartbeat
// timeouts and the give-up (*TransitionError), decode and routing errors
// (*stream.DecodeError, *stream.RouteError) and dropped messages
// (*DropError). Every one matches exactly one class with errors.Is:
// ErrConnection, ErrMessage or ErrDelivery (but a router handler's error
// that itself wraps an error of another class matches that one too).
//
// Options as for Messages, except the default overflow policy:
// stream.DropOldest, not Block. Errors are published on the way of dials,
// drops and decoding, so a Block subscriber that stops reading would stop
// the client reconnecting and reading. By default one that falls 256
// errors behind loses its oldest, counted (Dropped) and reported to the
// logger and OnError, aggregated per second; pass
// stream.WithOverflow(stream.Block) only for a subscriber that keeps up.
// A Block subscriber's loop may call Close, but not Connect, Disconnect or
// Reconnect: they wait for the lifecycle, which waits for that subscriber
// once its buffer is full (their ctx then ends them). Call them from
// another goroutine.
func (c *Client[T]) Errors(ctx context.Context, opts ...stream.SubOption) *stream.Subscription[error] {
	return c.errs.Subscribe(ctx, opts...)
}

// Transitions subscribes to lifecycle transitions. The first value is the
// latest transition (so the current state), then every later one in order.
//
// Options as for Messages, except the default overflow policy:
// stream.DropOldest, not Block, as for Errors: a subscriber that stops
// reading must not stop the lifecycle it watches. One that falls 256
// transitions behind loses its oldest (its Seq numbers then skip), counted
// and reported as a *SubscriberDropError on the error stream, to OnError
// and to the logger, aggregated per second. A Block subscriber
// (stream.WithOverflow(stream.Block)) holds every transition after the one
// it has not taken: choose it only for a subscriber that keeps up. Its loop
// may call Close, but not Connect, Disconnect or Reconnect, as for Errors.
func (c *Client[T]) Transitions(ctx context.Context, opts ...stream.SubOption) *stream.Subscription[fsm.Transition] {
	return c.transitions.Subscribe(ctx, opts...)
}
