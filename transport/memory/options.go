package memory

import (
	"slices"
	"time"

	"github.com/tether-go/tether/clock"
)

// Defaults of the options.
const (
	// DefaultMaxMessageSize is the largest inbound message a client Conn
	// accepts, as in transport/websocket: 16 MiB.
	DefaultMaxMessageSize = 16 << 20
	// DefaultQueueLimit is how many frames each direction of a connection
	// holds before its writer blocks.
	DefaultQueueLimit = 1024
	// DefaultCloseTimeout is how long a client Close waits for the server's
	// close frame.
	DefaultCloseTimeout = 5 * time.Second
)

// Option configures a [Server] (and, through it, every client Conn its
// transport dials) or a [Pipe].
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	autoAccept     bool
	manualCloseAck bool
	subprotocols   []string
	queueLimit     int
	maxMessageSize int64
	closeTimeout   time.Duration
	clock          clock.Clock
	err            error // first refused option
}

func newOptions(opts []Option) (options, error) {
	o := options{
		queueLimit:     DefaultQueueLimit,
		maxMessageSize: DefaultMaxMessageSize,
		closeTimeout:   DefaultCloseTimeout,
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

// WithAutoAccept makes every dial that the server answers with [Proceed]
// complete at once, without waiting for [Server.Accept]. The server's ends
// still queue up for Accept, in dial order.
func WithAutoAccept() Option {
	return optionFunc(func(o *options) { o.autoAccept = true })
}

// WithSubprotocols lists the subprotocols the server supports. Of those a
// client offers, the server selects the first (in the client's order) that
// it supports. When the client offers some and the server supports none of
// them, the dial fails with [transport.ErrSubprotocol]. By default the server
// supports none.
func WithSubprotocols(supported ...string) Option {
	supported = slices.Clone(supported)
	return optionFunc(func(o *options) { o.subprotocols = supported })
}

// WithManualCloseAck stops the server from answering a client's close frame
// by itself: the client's Close then waits until the script calls
// [ServerConn.Close], or until its close timeout. By default the server
// acknowledges at once (unless it is stalled, see [ServerConn.Stall]).
func WithManualCloseAck() Option {
	return optionFunc(func(o *options) { o.manualCloseAck = true })
}

// WithQueueLimit sets how many frames each direction of a connection holds
// before the writer blocks (default [DefaultQueueLimit]); n must be at least 1.
// Replies the endpoints make on their own (pongs, close acknowledgements) are
// never held back by the limit.
func WithQueueLimit(n int) Option {
	return optionFunc(func(o *options) {
		if n < 1 {
			o.refuse("WithQueueLimit", n, "must be at least 1")
			return
		}
		o.queueLimit = n
	})
}

// WithMaxMessageSize sets the largest message, in bytes once reassembled,
// that a client Conn reads (default [DefaultMaxMessageSize]); n must be at
// least 1. A larger one makes the client close with 1009 and report
// [transport.ErrMessageTooLarge].
func WithMaxMessageSize(n int64) Option {
	return optionFunc(func(o *options) {
		if n < 1 {
			o.refuse("WithMaxMessageSize", n, "must be at least 1")
			return
		}
		o.maxMessageSize = n
	})
}

// WithCloseTimeout sets how long a client Close waits for the server's close
// frame (default [DefaultCloseTimeout]); d must be positive.
func WithCloseTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.refuse("WithCloseTimeout", d, "must be positive")
			return
		}
		o.closeTimeout = d
	})
}

// WithClock sets the clock that times a client's close timeout, the only
// timer in this package (default [clock.Real]; nil means the default). Tests
// pass a tethertest.FakeClock and step through the timeout.
func WithClock(c clock.Clock) Option {
	return optionFunc(func(o *options) { o.clock = c })
}
