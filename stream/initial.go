package stream

// WithInitial queues v in the new subscriber before anything published
// after it subscribed, so the subscriber starts from a known value: the
// current state, say. The subscriber's queue must hold at least one value.
// T must be the hub's value type, otherwise the subscription fails with a
// [*ConfigError].
//
// The caller makes the initial value and the subscription atomic with
// respect to publishing (for example by publishing and subscribing under one
// lock); the hub does not know which value is current.
func WithInitial[T any](v T) SubOption {
	return subOptionFunc(func(c *subConfig) { c.initial, c.hasInit = v, true })
}

// prime queues the initial value, before the subscriber joins the hub.
func (q *queue[T, E]) prime(cfg subConfig) {
	if !cfg.hasInit {
		return
	}
	q.mu.Lock()
	q.ch <- q.wrap(cfg.initial.(T))
	q.mu.Unlock()
}
