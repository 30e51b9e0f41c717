package stream

// WithInitial queues vs in the new subscriber, in order, before anything
// published after it subscribed, so the subscriber starts from known values:
// the current state, say, or messages held for the first subscriber. They are
// queued beyond the subscriber's buffer: the subscriber still takes a full
// buffer of published values before its overflow policy applies. A reader
// of [Subscription.All] always gets them; on a channel ([Subscription.C], an
// Rx view) [DropOldest] may evict them, as the oldest values queued. With
// WithBuffer(0), a synchronous hand-off, they are handed over one by one
// before any published value, and the hand-off stays synchronous. T must be the hub's value type, otherwise the subscription
// fails with a [*ConfigError].
//
// The caller makes the initial values and the subscription atomic with
// respect to publishing (for example by publishing and subscribing under one
// lock); the hub does not know which values are current.
func WithInitial[T any](vs ...T) SubOption {
	vs = append([]T(nil), vs...)
	return subOptionFunc(func(c *subConfig) { c.initialAny = vs })
}
