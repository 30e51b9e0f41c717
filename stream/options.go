package stream

import (
	"fmt"
	"reflect"
)

// DefaultBuffer is the queue capacity of a subscriber that does not set
// [WithBuffer].
const DefaultBuffer = 256

// MaxBuffer is the largest queue capacity [WithBuffer] accepts. A channel
// queue ([Subscription.C], a [Via]) is allocated at its full capacity, so
// a larger one could exhaust memory at subscribe time.
const MaxBuffer = 1 << 20

// SubOption configures one subscriber: [Hub.Subscribe] or [Hub.All] (and,
// through [Via], adapters such as package rx). Options apply in order after
// the hub's [WithDefaults]; a bad value makes the subscription fail with a
// [*ConfigError].
type SubOption interface {
	applySub(*subConfig)
}

type subConfig struct {
	buffer     int
	overflow   Overflow
	name       string
	onDropAny  any // func(T) for the hub's T, checked at subscribe time
	initialAny any // []T queued before anything published, checked at subscribe time
	via        any // a *Via[T, E] for the hub's T, checked at subscribe time
}

type subOptionFunc func(*subConfig)

func (f subOptionFunc) applySub(c *subConfig) { f(c) }

// WithBuffer sets the subscriber's queue capacity (default [DefaultBuffer]).
// n must be at least 1 and at most [MaxBuffer], or 0 with the [Block]
// policy for a synchronous hand-off.
func WithBuffer(n int) SubOption {
	return subOptionFunc(func(c *subConfig) { c.buffer = n })
}

// WithOverflow sets what happens when the subscriber's queue is full
// (default [Block]: nothing is dropped).
func WithOverflow(p Overflow) SubOption {
	return subOptionFunc(func(c *subConfig) { c.overflow = p })
}

// WithName names the subscriber in [SubInfo], for drop reports, logs and
// metric labels.
func WithName(name string) SubOption {
	return subOptionFunc(func(c *subConfig) { c.name = name })
}

// OnDrop calls f with every value this subscriber loses to its overflow
// policy, on the publishing goroutine, after the subscriber's lock is
// released. f must be quick and must not block; it may call Close or
// Publish. T must be the hub's value type, otherwise the subscription
// fails with a [*ConfigError]. A nil f is ignored.
func OnDrop[T any](f func(v T)) SubOption {
	return subOptionFunc(func(c *subConfig) {
		if f != nil {
			c.onDropAny = f
		}
	})
}

func (c *subConfig) validate() error {
	switch {
	case c.overflow == Fail:
		return &ConfigError{Option: "WithOverflow", Value: c.overflow,
			Problem: "Fail is for a client's send buffer; a subscriber uses Block, DropOldest, DropNewest or Disconnect"}
	case !c.overflow.valid():
		return &ConfigError{Option: "WithOverflow", Value: c.overflow, Problem: "unknown overflow policy"}
	case c.buffer < 0:
		return &ConfigError{Option: "WithBuffer", Value: c.buffer, Problem: "must not be negative"}
	case c.buffer > MaxBuffer:
		return &ConfigError{Option: "WithBuffer", Value: c.buffer, Problem: "above MaxBuffer (1<<20)"}
	case c.buffer == 0 && c.overflow != Block:
		return &ConfigError{Option: "WithBuffer", Value: c.buffer, Problem: "0 (synchronous hand-off) needs the Block policy"}
	}
	return nil
}

// HubOption configures [NewHub].
type HubOption interface {
	applyHub(*hubConfig)
}

type hubConfig struct {
	defaults []SubOption
	onDrop   any // func(SubInfo, T)
	current  any // *T, from WithCurrent
}

type hubOptionFunc func(*hubConfig)

func (f hubOptionFunc) applyHub(c *hubConfig) { f(c) }

// WithDefaults sets options applied to every subscriber of the hub before
// the subscriber's own options.
func WithDefaults(opts ...SubOption) HubOption {
	opts = append([]SubOption(nil), opts...)
	return hubOptionFunc(func(c *hubConfig) { c.defaults = append(c.defaults, opts...) })
}

// OnAnyDrop calls f with every value any subscriber of the hub loses to its
// overflow policy, with the subscriber's [SubInfo], on the publishing
// goroutine, after the subscriber's own [OnDrop]. This is the place to
// report drops (to a log, a metric or an error stream) so none is silent.
// f must be quick and must not block. T must be the hub's value type,
// otherwise [Hub.Err] reports a [*ConfigError] and every subscription
// fails with it. A nil f is ignored.
func OnAnyDrop[T any](f func(sub SubInfo, v T)) HubOption {
	return hubOptionFunc(func(c *hubConfig) {
		if f != nil {
			c.onDrop = f
		}
	})
}

// SubInfo describes a subscriber in drop reports.
type SubInfo struct {
	// ID is unique within the hub, counting from 1 in subscription order.
	ID uint64
	// Name is the [WithName] value, or "".
	Name string
	// Overflow is the subscriber's policy.
	Overflow Overflow
	// Buffer is the subscriber's queue capacity.
	Buffer int
}

// String returns "name#id" or "#id".
func (i SubInfo) String() string { return fmt.Sprintf("%s#%d", i.Name, i.ID) }

func typeMismatch(option string, got any, want reflect.Type) *ConfigError {
	return &ConfigError{
		Option:  option,
		Value:   reflect.TypeOf(got).String(),
		Problem: "callback type does not match the hub's value type " + want.String(),
	}
}
