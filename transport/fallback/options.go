package fallback

import (
	"time"

	"github.com/tether-go/tether/clock"
)

// Defaults of the options.
const (
	// DefaultSwitchAfter is how many primary dials in a row must fail
	// before the secondary takes over (a proxy-style refusal switches at
	// once).
	DefaultSwitchAfter = 3
	// DefaultProbeInterval is the time between two probes of the primary
	// while the secondary is in use.
	DefaultProbeInterval = 30 * time.Second
	// DefaultProbeTimeout bounds one probe dial of the primary, in real
	// time, so a black-holed primary does not hold a Dial for the primary
	// transport's whole dial timeout.
	DefaultProbeTimeout = 10 * time.Second
)

// SwitchFunc is told about every switch between the transports: from and to
// are their names, reason is the primary's dial error for a downgrade and
// [ErrUpgrade] for an upgrade. It is called on the goroutine that made the
// switch (a Dial's caller, or a secondary Conn's probe goroutine), without
// locks held, and must return promptly: it must not wait for that Conn's
// Close, and tether.Client's Close is such a wait (during an upgrade it
// waits for the polling Conn the probe is ending, and returns only when
// its ctx ends). To close the client from here, call Close on a goroutine
// of its own.
type SwitchFunc func(from, to string, reason error)

// Option configures a [Transport]. Options apply in order; a later one
// overrides an earlier one. A nil Option is ignored.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	switchAfter   int
	proxyRefusal  func(error) bool
	probeInterval time.Duration
	probeTimeout  time.Duration
	clock         clock.Clock
	onSwitch      SwitchFunc
	err           error
}

func newOptions(opts []Option) (options, error) {
	o := options{
		switchAfter:   DefaultSwitchAfter,
		proxyRefusal:  DefaultProxyRefusal,
		probeInterval: DefaultProbeInterval,
		probeTimeout:  DefaultProbeTimeout,
	}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	o.clock = clock.OrReal(o.clock)
	return o, o.err
}

func (o *options) refuse(option string, value any, problem string) {
	if o.err == nil {
		o.err = &ConfigError{Option: option, Value: value, Problem: problem}
	}
}

// WithSwitchAfter sets how many primary dials in a row must fail before
// the Dial that saw the n-th failure goes on to the secondary (default
// [DefaultSwitchAfter]); n must be at least 1. A dial abandoned through its
// ctx does not count; a successful one resets the count.
func WithSwitchAfter(n int) Option {
	return optionFunc(func(o *options) {
		if n < 1 {
			o.refuse("WithSwitchAfter", n, "must be at least 1")
			return
		}
		o.switchAfter = n
	})
}

// WithProxyRefusal sets the classifier of primary dial errors that switch
// to the secondary at once, without waiting for [WithSwitchAfter] failures
// (default [DefaultProxyRefusal]). f is called on the dialing goroutine and
// must not be nil; pass a function that returns false to switch only after
// the count.
func WithProxyRefusal(f func(error) bool) Option {
	return optionFunc(func(o *options) {
		if f == nil {
			o.refuse("WithProxyRefusal", f, "must not be nil")
			return
		}
		o.proxyRefusal = f
	})
}

// WithProbeInterval sets the time between two probes of the primary while
// the secondary is in use (default [DefaultProbeInterval]); d must be
// positive. It runs on the clock of [WithClock].
func WithProbeInterval(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.refuse("WithProbeInterval", d, "must be positive")
			return
		}
		o.probeInterval = d
	})
}

// WithProbeTimeout bounds one probe dial of the primary, in real time
// (default [DefaultProbeTimeout]); d must be positive.
func WithProbeTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.refuse("WithProbeTimeout", d, "must be positive")
			return
		}
		o.probeTimeout = d
	})
}

// WithClock sets the clock of the probe schedule (default [clock.Real]; nil
// means the default). Tests pass a tethertest.FakeClock and step through it.
func WithClock(c clock.Clock) Option {
	return optionFunc(func(o *options) { o.clock = c })
}

// WithOnSwitch sets a function told about every switch (see [SwitchFunc]).
// nil means none.
func WithOnSwitch(f SwitchFunc) Option {
	return optionFunc(func(o *options) { o.onSwitch = f })
}
