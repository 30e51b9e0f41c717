package policy

import (
	"time"

	"github.com/tether-go/tether/transport"
)

// Defaults of [Policy] beyond its strategy.
const (
	// DefaultMinUptime is how long a connection must stay open for its loss
	// to start a fresh streak (attempt 1 again). reconnecting-websocket's
	// minUptime.
	DefaultMinUptime = 5 * time.Second
	// DefaultMaxRetryAfter caps how long a server's Retry-After can hold a
	// client back; a longer one is clipped, and the server can say it again.
	DefaultMaxRetryAfter = 5 * time.Minute
	// DefaultFloorSpread is the fraction by which a floor (Retry-After or a
	// rule's MinDelay) is spread upward when it exceeds the strategy's delay,
	// so clients told the same Retry-After do not return in the same instant.
	// gRPC's jitter of 0.2.
	DefaultFloorSpread = 0.2
)

// Option configures [New]. Options are applied in order; New validates the
// result and reports the first bad value as a [*ConfigError].
type Option interface {
	apply(*options)
}

type options struct {
	maxAttempts   int
	maxElapsed    time.Duration
	minUptime     time.Duration
	maxRetryAfter time.Duration
	floorSpread   float64
	closeRules    CloseRules
	httpRules     HTTPRules
	terminal      []error
	rand          Rand
}

func defaultOptions() options {
	return options{
		minUptime:     DefaultMinUptime,
		maxRetryAfter: DefaultMaxRetryAfter,
		floorSpread:   DefaultFloorSpread,
		closeRules:    DefaultCloseRules(),
		httpRules:     DefaultHTTPRules(),
		terminal:      DefaultTerminalErrors(),
	}
}

// DefaultTerminalErrors returns the errors after which retrying is
// pointless, because the next attempt would meet the same answer:
//
//   - transport.ErrBadTarget: the URL cannot be dialed as written;
//   - transport.ErrSubprotocol: the server speaks none of the offered
//     subprotocols;
//   - transport.ErrBadHandshake: the server's answer to the upgrade broke
//     the protocol (a wrong Sec-WebSocket-Accept, an extension or
//     subprotocol nobody offered);
//   - transport.ErrCertificate: the server's certificate failed
//     verification.
//
// To retry one of them anyway (a certificate being renewed, say), pass the
// others to [WithTerminalErrors].
func DefaultTerminalErrors() []error {
	return []error{transport.ErrBadTarget, transport.ErrSubprotocol, transport.ErrBadHandshake, transport.ErrCertificate}
}

// WithTerminalErrors replaces the errors that stop the reconnect loop at
// once (matched with errors.Is against the last error), ErrTerminalError
// being the reason. Default DefaultTerminalErrors; none at all retries
// every error.
func WithTerminalErrors(errs ...error) Option {
	errs = append([]error(nil), errs...)
	return optionFunc(func(o *options) { o.terminal = errs })
}

func (o *options) validate() error {
	switch {
	case o.maxAttempts < 0:
		return configErr("WithMaxAttempts", o.maxAttempts, "must not be negative (0 means no cap)")
	case o.maxElapsed < 0:
		return configErr("WithMaxElapsed", o.maxElapsed, "must not be negative (0 means no cap)")
	case o.minUptime < 0:
		return configErr("WithMinUptime", o.minUptime, "must not be negative")
	case o.maxRetryAfter <= 0:
		return configErr("WithMaxRetryAfter", o.maxRetryAfter, "must be positive")
	case !(o.floorSpread >= 0 && o.floorSpread <= 1): // also NaN
		return configErr("WithFloorSpread", o.floorSpread, "must be within [0, 1]")
	}
	if err := o.closeRules.Validate(); err != nil {
		return err
	}
	return o.httpRules.Validate()
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithMaxAttempts stops after n attempts in a streak: attempt n+1 is refused
// with [ErrAttemptsExhausted]. 0, the default, means no cap: a long-lived
// feed should keep trying.
func WithMaxAttempts(n int) Option {
	return optionFunc(func(o *options) { o.maxAttempts = n })
}

// WithMaxElapsed stops when the next attempt would start more than d after
// the streak began, with [ErrElapsedExceeded]. 0, the default, means no cap.
func WithMaxElapsed(d time.Duration) Option {
	return optionFunc(func(o *options) { o.maxElapsed = d })
}

// WithMinUptime sets how long a connection must stay open for its loss to
// start a fresh streak; see [Streak.Lost]. 0 makes every open connection
// reset the count, as gRPC does on READY. Default [DefaultMinUptime].
func WithMinUptime(d time.Duration) Option {
	return optionFunc(func(o *options) { o.minUptime = d })
}

// WithCloseRules replaces the close-code rules. Start from
// [DefaultCloseRules] and override with [Rules.With].
func WithCloseRules(r CloseRules) Option {
	return optionFunc(func(o *options) { o.closeRules = r.clone() })
}

// WithHTTPRules replaces the HTTP-status rules. Start from
// [DefaultHTTPRules] and override with [Rules.With].
func WithHTTPRules(r HTTPRules) Option {
	return optionFunc(func(o *options) { o.httpRules = r.clone() })
}

// WithMaxRetryAfter caps how long a Retry-After can delay an attempt; a
// longer one is clipped to d. Default [DefaultMaxRetryAfter].
func WithMaxRetryAfter(d time.Duration) Option {
	return optionFunc(func(o *options) { o.maxRetryAfter = d })
}

// WithFloorSpread sets the fraction f, in [0, 1], by which a floor
// (Retry-After or a rule's MinDelay) that exceeds the strategy's delay is
// spread upward: the delay is drawn from [floor, floor*(1+f)). 0 waits
// exactly the floor. Default [DefaultFloorSpread].
func WithFloorSpread(f float64) Option {
	return optionFunc(func(o *options) { o.floorSpread = f })
}

// WithRand sets the random source of the floor spread (the strategy has its
// own). nil means the process-wide source.
func WithRand(r Rand) Option {
	return optionFunc(func(o *options) { o.rand = r })
}
