package rx

import (
	"context"

	"github.com/reactivex/rxgo/v2"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
)

// Observe returns an rxgo Observable over a new subscriber of h, with opts:
// any hub, a Router's typed hubs among them ([stream.Route]). The
// subscriber's queue is a chan rxgo.Item, read by
// rxgo.FromChannel(queue, rxgo.WithContext(ctx)) with no goroutine in
// between. Values published after Observe returns are queued, even before
// the Observable is observed.
//
// Every call makes a separate subscriber, so two Observables never split
// items. The returned Observable is cold over that one queue: observe it
// once (build one pipeline on it) and call Observe again for another
// pipeline.
//
// The subscriber ends when ctx ends (which also stops rxgo's operator
// goroutines), when the hub is closed (the Observable completes), or when
// the [stream.Disconnect] policy drops it (the Observable emits
// [stream.ErrSlowSubscriber] and completes). Pass a ctx you cancel: with
// context.Background the subscriber lives until the hub closes. Refused
// options yield an Observable that emits the [*stream.ConfigError].
//
// Observe may be called from any goroutine.
func Observe[T any](ctx context.Context, h *stream.Hub[T], opts ...stream.SubOption) rxgo.Observable {
	return view[T](ctx, opts, func(ctx context.Context, opts []stream.SubOption) { h.Subscribe(ctx, opts...) })
}

// Messages returns an Observable of c's decoded messages, backed by a
// subscriber of its own, as [tether.Client.Messages] makes one (opts as
// there; the first subscriber ever, of either form, receives the messages
// held for it). Two Observables never split items. End ctx to free it.
func Messages[T any](ctx context.Context, c *tether.Client[T], opts ...stream.SubOption) rxgo.Observable {
	return view[T](ctx, opts, func(ctx context.Context, opts []stream.SubOption) { c.Messages(ctx, opts...) })
}

// Errors returns an Observable of c's error stream ([tether.Client.Errors]).
func Errors[T any](ctx context.Context, c *tether.Client[T], opts ...stream.SubOption) rxgo.Observable {
	return view[error](ctx, opts, func(ctx context.Context, opts []stream.SubOption) { c.Errors(ctx, opts...) })
}

// Transitions returns an Observable of c's lifecycle transitions, starting
// with the latest one ([tether.Client.Transitions]).
func Transitions[T any](ctx context.Context, c *tether.Client[T], opts ...stream.SubOption) rxgo.Observable {
	return view[fsm.Transition](ctx, opts, func(ctx context.Context, opts []stream.SubOption) { c.Transitions(ctx, opts...) })
}

// view subscribes with a [stream.Via] of rxgo items among opts and wraps
// its channel. The subscription itself is not kept: ctx, the hub or the
// Disconnect policy ends it.
func view[T any](ctx context.Context, opts []stream.SubOption, subscribe func(context.Context, []stream.SubOption)) rxgo.Observable {
	if ctx == nil {
		ctx = context.Background()
	}
	via := stream.NewVia(toItem[T], fromItem[T], rxgo.Error)
	subscribe(ctx, append(opts[:len(opts):len(opts)], via))
	return rxgo.FromChannel(via.C(), rxgo.WithContext(ctx))
}

func toItem[T any](v T) rxgo.Item { return rxgo.Of(v) }

func fromItem[T any](i rxgo.Item) T {
	v, _ := i.V.(T)
	return v
}
