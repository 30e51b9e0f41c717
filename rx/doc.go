// Package rx reads tether's streams as rxgo Observables: a Client's
// messages, errors and transitions ([Messages], [Errors], [Transitions]) and
// any [stream.Hub] ([Observe]), for pipelines built with rxgo's operators
// (Map, Filter, BufferWithCount, Debounce, Scan...).
//
// It is a package of its own so that programs that never use Rx do not
// link rxgo and what it pulls in; the Client and package stream know
// nothing of it.
//
// # Rx is a view, not the pipe
//
// rxgo v2.5.0 cannot carry the hot path: FromChannel is cold (two observers
// of one Observable split the items), the published (connectable) form
// blocks every observer behind the slowest, ignores a cancelled context
// while blocked and leaks its producer, ForEach ignores its own
// WithContext, and FromEventSource holds a lock after its context ends.
// Each operator also costs a goroutine hop and an interface box per item.
//
// So the fan-out is package stream's, and every function here makes a
// separate subscriber whose queue is a chan rxgo.Item (a [stream.Via]),
// wrapped with rxgo.FromChannel(queue, rxgo.WithContext(ctx)): no goroutine
// runs between the hub and rxgo. Two Observables never split items; a slow
// pipeline only affects itself, under its own overflow policy; cancelling
// ctx frees the subscriber and stops rxgo's operator goroutines. This
// package never uses WithPublishStrategy, Connect or FromEventSource.
//
// Rules of thumb:
//
//   - One pipeline per Observable: observing one Observable twice splits
//     its items, as FromChannel does. Call the function again for a second
//     pipeline.
//   - Pass a context you cancel: with context.Background the subscriber
//     lives until the hub (or the Client) closes.
//   - Values are queued from the moment the function returns, even before
//     the Observable is observed.
//   - The hub closing completes the Observable; the [stream.Disconnect]
//     policy emits [stream.ErrSlowSubscriber] as the last item (a slot is
//     reserved for it) and then completes.
//   - Do not pass rxgo.WithContext to operators downstream: rxgo merges it
//     with the source's context through a goroutine that lives until one of
//     them ends. The source's context already reaches every operator.
package rx
