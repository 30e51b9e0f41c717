package stream

import (
	"context"

	"github.com/reactivex/rxgo/v2"
)

// Observable returns an rxgo Observable over a new subscriber of its own,
// whose queue is a chan rxgo.Item: rxgo.FromChannel(queue,
// rxgo.WithContext(ctx)). Values published after Observable returns are
// queued, even before the Observable is observed.
//
// Every call makes a separate subscriber, so two Observables never split
// items. The returned Observable is cold over that one queue: observe it
// once (build one pipeline on it) and call Observable again for another
// pipeline.
//
// The subscriber ends when ctx ends (which also stops rxgo's operator
// goroutines), when the hub is closed (the Observable completes), or when
// the [Disconnect] policy drops it (the Observable emits
// [ErrSlowSubscriber] and completes). Pass a ctx you cancel: with
// context.Background the subscriber lives until the hub closes. A bad
// option yields an Observable that emits the [*ConfigError].
//
// Observable may be called from any goroutine.
func (h *Hub[T]) Observable(ctx context.Context, opts ...SubOption) rxgo.Observable {
	h.hubInit()
	cfg, err := h.subConfig(opts)
	if err != nil {
		return rxgo.Thrown(err)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var endItem func(error) rxgo.Item
	if cfg.overflow == Disconnect {
		endItem = rxgo.Error
	}
	var q *queue[T, rxgo.Item]
	h.join(&cfg, func() {
		q = newQueue(h, cfg, toItem[T], fromItem[T], endItem, true)
		h.attach(ctx, q)
	})
	return rxgo.FromChannel(q.ch, rxgo.WithContext(ctx))
}

func toItem[T any](v T) rxgo.Item { return rxgo.Of(v) }

func fromItem[T any](i rxgo.Item) T {
	v, _ := i.V.(T)
	return v
}
