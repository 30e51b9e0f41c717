package stream

import (
	"reflect"
	"sync"
)

// WithCurrent makes the hub keep a current value, starting with v: every
// Publish replaces it, and every new subscriber (Subscribe, All, a
// Via) receives it first, then every value published after it. The hand-over
// is atomic: a value published while a subscriber joins reaches it either
// as its current value or as a published one, never both and never
// neither. This is the stream of a state (a connection's latest
// transition, say), where a subscriber needs to know where things stand
// before it hears what changes.
//
// Publish with a current value takes a short lock that no subscriber can
// hold up; values should be published from one goroutine at a time, or the
// current value is the last of concurrent publishes to take that lock. T
// must be the hub's value type, otherwise [Hub.Err] reports a
// [*ConfigError].
func WithCurrent[T any](v T) HubOption {
	return hubOptionFunc(func(c *hubConfig) { c.current = &v })
}

// current is a hub's current value (see WithCurrent).
type current[T any] struct {
	mu sync.Mutex // orders setting v against joining the hub
	v  T
}

// newCurrent resolves the WithCurrent option for a hub of T.
func newCurrent[T any](opt any) (*current[T], error) {
	if opt == nil {
		return nil, nil
	}
	v, ok := opt.(*T)
	if !ok {
		return nil, typeMismatch("WithCurrent", opt, reflect.TypeFor[T]())
	}
	return &current[T]{v: *v}, nil
}

// set makes v the current value and returns the subscribers to deliver it
// to: exactly those that joined before it became current.
func (c *current[T]) set(h *Hub[T], v T) *memberList[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.v = v
	return h.list.Load()
}

// join runs attach with the current value first among cfg's initial
// values, so that no value is set meanwhile.
func (c *current[T]) join(cfg *resolved[T], attach func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg.initial = append([]T{c.v}, cfg.initial...)
	attach()
}
