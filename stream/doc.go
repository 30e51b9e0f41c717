// Package stream is tether's hot path for everything a connection emits:
// a fan-out [Hub] with a bounded queue and an explicit overflow policy per
// subscriber, channel and iterator views of it (and, through [Via], the
// rxgo views of package rx), codecs that turn
// payloads into typed values, and a [Router] that sends envelopes
// {type, data, timestamp} to typed handlers and typed streams.
//
// The package knows no transport and no state machine: the Client decodes
// each inbound payload, publishes messages, errors and lifecycle
// transitions on hubs, and users subscribe.
//
// # The hub
//
// [Hub.Publish] reads the current subscriber list with one atomic load (the
// list is an immutable slice replaced on every subscribe and unsubscribe,
// copy on write) and hands the value to each subscriber's queue. It takes
// no hub-wide lock. No goroutine runs per subscriber.
//
// A subscriber's queue works in one of two modes. Read with
// [Subscription.All], it is a batch queue: the reader takes every queued
// value at once under a small per-subscriber lock, so a burst costs one
// lock and at most one wake-up however many values it holds, and
// [Hub.PublishEach] queues a whole batch the same way. [Subscription.C]
// turns it into a buffered channel (values already queued move into it,
// in order), for a reader that selects on it beside other channels; every
// value then costs a channel send and receive. A subscriber made with a
// [Via] (an Rx view of package rx) is a channel of the adapter's item type
// from the start. No goroutine ever waits while holding a
// queue's lock, and a channel is closed only once no publisher is sending
// on it, so a send on a closed channel cannot happen, whichever goroutine
// closes.
//
// A subscription ends by [Subscription.Close], by the end of the context
// passed to [Hub.Subscribe] (watched with context.AfterFunc: no goroutine
// until it fires), by [Hub.Close], or by the [Disconnect] policy. Values
// already queued stay readable; then All returns and the channel closes.
// [Subscription.Err] says why it ended. [WithInitial] queues first values
// (the current state, say) ahead of everything published after
// subscribing, and [WithCurrent] makes a hub hand its current value to
// every new subscriber.
//
// # Overflow policies
//
// Each subscriber has a queue of [WithBuffer] values ([DefaultBuffer] = 256)
// and a policy ([WithOverflow]) for a value that arrives when it is full:
//
//	policy       | the subscriber keeps     | the publisher        | reported as dropped
//	-------------+--------------------------+----------------------+---------------------------
//	DropOldest   | the newest values        | never waits          | each evicted oldest value
//	DropNewest   | the first values queued  | never waits          | each arriving value
//	Block        | every value              | waits for room       | nothing
//	Disconnect   | what was queued          | never waits          | the values that did not fit;
//	             | before it fell behind    |                      | the subscriber is closed with
//	             |                          |                      | ErrSlowSubscriber
//
// [Block] is the default: nothing is lost unless the subscriber chose a
// dropping policy by name. A Block subscriber that stops reading slows the
// publisher down (for a Client, its reader, and through TCP the server),
// until it reads again, ends, or the hub is closed or unblocked
// ([Hub.Unblock], which a Client calls when it shuts down). Choose
// [DropOldest] for a live feed that is worth most when fresh, [DropNewest]
// when the first values matter most, and [Disconnect] when a gap is worse
// than an end.
//
// Every drop is reported: [Subscription.Dropped] counts them,
// [OnDrop] calls back per subscriber, and [OnAnyDrop] calls back for every
// subscriber of a hub with its [SubInfo], so the Client can put each drop
// on its error stream or a metric. Callbacks run on the publishing
// goroutine after the subscriber's lock is released.
//
// # Channels, iterators and Rx
//
// Three ways to read the same hub, from cheapest to most composable:
//
//   - [Subscription.C], a channel: select on it beside other channels.
//   - [Subscription.All] and [Hub.All], iterators: range over them; Hub.All
//     subscribes for the loop and unsubscribes when it ends.
//   - rx.Observe (package github.com/tether-go/tether/rx), an rxgo
//     Observable: Map, Filter, BufferWithCount, Debounce and the rest of
//     rxgo's operators.
//
// This package does not import rxgo. A [Via] is how an adapter like package
// rx gets a subscriber whose queue is a channel of its own item type
// (rxgo.Item), which rxgo reads directly, with no goroutine in between.
//
// # Codecs and typed messages
//
// A [Codec] marshals values into payloads and says whether each payload
// goes in a text or a binary frame; [JSON] is the default, [Raw] passes
// bytes and strings through. [Decode] and [DecodeEnvelope] decode a payload
// (which may be a borrowed read buffer) into typed values; failures are
// [*DecodeError]s with a bounded excerpt of the payload.
//
// [Message] is the envelope {type, data, timestamp}; [Envelope] is one
// whose data is still raw JSON. A [Router] decodes each Envelope's data
// into the type registered for its message type and calls the handlers
// ([Handle]) and publishes on the typed hubs ([Route]). An unknown type is
// a [*RouteError] with [ErrUnknownType] unless a fallback is set
// ([WithFallback]); the connection is never at fault for a bad message.
//
// # Concurrency
//
// Every exported function and method may be called from any goroutine
// unless its documentation says otherwise. Values published by one
// goroutine reach each subscriber in publish order.
package stream
