package polling

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/clock"
)

// Defaults of the options. The package documentation explains each.
const (
	// DefaultInterval is the wait between two polls in short-poll mode, and
	// the least time between two empty answers in long-poll mode.
	DefaultInterval = time.Second
	// DefaultRequestTimeout bounds one HTTP request (the initial GET of
	// Dial, a poll, a send). In long-poll mode a poll may take the long-poll
	// wait on top of it. It matches the WebSocket transport's dial timeout.
	DefaultRequestTimeout = 20 * time.Second
	// DefaultMaxFailures is how many polls in a row may fail before the Conn
	// ends, so that an outage reaches the client's reconnect policy.
	DefaultMaxFailures = 5
	// DefaultBackoffMin is the wait after the first failed poll; it doubles
	// with each failure in a row, up to DefaultBackoffMax.
	DefaultBackoffMin = time.Second
	// DefaultBackoffMax caps the wait between failed polls.
	DefaultBackoffMax = 30 * time.Second
	// DefaultMaxRetryAfter caps how long a server's Retry-After may hold the
	// next poll back, as in package policy.
	DefaultMaxRetryAfter = 5 * time.Minute
	// DefaultMaxBodySize is the largest answer body accepted, 16 MiB, the
	// WebSocket transport's message limit.
	DefaultMaxBodySize = 16 << 20
	// DefaultSubprotocolHeader is the header that carries the offered
	// subprotocols and the server's choice.
	DefaultSubprotocolHeader = "Sec-WebSocket-Protocol"
)

// Format says how the body of a poll answer becomes messages.
type Format uint8

// Formats.
const (
	// JSONArray, the default: the body is a JSON array and each element is
	// delivered as one Text message holding the element's raw JSON bytes.
	JSONArray Format = iota
	// WholeBody: the whole body is one message, Text when its Content-Type
	// is textual (text/*, JSON, XML, JavaScript, form data), Binary
	// otherwise.
	WholeBody
)

// String returns "json-array" or "whole-body". Safe from any goroutine.
func (f Format) String() string {
	switch f {
	case JSONArray:
		return "json-array"
	case WholeBody:
		return "whole-body"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// URLRewrite maps the http(s) form of a target URL onto the URL to poll;
// see [WithURLRewrite]. It gets a copy it may modify and return.
type URLRewrite func(target *url.URL) (*url.URL, error)

// Option configures a [Transport]. Options apply in order; a later one
// overrides an earlier one. A nil Option is ignored.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	interval       time.Duration
	longPoll       time.Duration // 0: short polls
	requestTimeout time.Duration
	maxFailures    int
	backoffMin     time.Duration
	backoffMax     time.Duration
	maxRetryAfter  time.Duration
	maxBodySize    int64
	format         Format
	pollPath       string
	sendPath       string
	sendEnabled    bool
	rewrite        URLRewrite
	protoHeader    string
	client         *http.Client
	clock          clock.Clock
	err            error // first refused option
}

func newOptions(opts []Option) (options, error) {
	o := options{
		interval:       DefaultInterval,
		requestTimeout: DefaultRequestTimeout,
		maxFailures:    DefaultMaxFailures,
		backoffMin:     DefaultBackoffMin,
		backoffMax:     DefaultBackoffMax,
		maxRetryAfter:  DefaultMaxRetryAfter,
		maxBodySize:    DefaultMaxBodySize,
		protoHeader:    DefaultSubprotocolHeader,
	}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	if o.err == nil && o.backoffMin > o.backoffMax {
		o.refuse("WithBackoff", [2]time.Duration{o.backoffMin, o.backoffMax}, "min is above max")
	}
	o.clock = clock.OrReal(o.clock)
	if o.client == nil {
		o.client = newHTTPClient()
	}
	o.client = noRedirects(o.client)
	return o, o.err
}

func (o *options) refuse(option string, value any, problem string) {
	if o.err == nil {
		o.err = &ConfigError{Option: option, Value: value, Problem: problem}
	}
}

// WithInterval sets the wait between two polls (default [DefaultInterval]);
// d must be positive. In long-poll mode it is the least time between the
// start of a poll that came back empty and the next poll, which keeps a
// server that ignores the long-poll wait from being polled in a hot loop.
func WithInterval(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.refuse("WithInterval", d, "must be positive")
			return
		}
		o.interval = d
	})
}

// WithLongPoll turns on long polling: every poll asks the server to hold the
// request for up to maxWait until it has something (header
// "Prefer: wait=<seconds>", RFC 7240), and the next poll starts as soon as
// the answer is in. maxWait must be positive; it is rounded up to whole
// seconds on the wire. A poll may take maxWait plus the request timeout.
//
// With a ping-frame heartbeat, keep maxWait below the heartbeat's pong
// timeout: the pong of a ping comes with the answer to the next poll, and a
// held poll answers late.
func WithLongPoll(maxWait time.Duration) Option {
	return optionFunc(func(o *options) {
		if maxWait <= 0 {
			o.refuse("WithLongPoll", maxWait, "must be positive")
			return
		}
		o.longPoll = maxWait
	})
}

// WithRequestTimeout bounds every HTTP request (default
// [DefaultRequestTimeout]); d must be positive. The bound is real time, like
// a network deadline, not the clock of [WithClock].
func WithRequestTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.refuse("WithRequestTimeout", d, "must be positive")
			return
		}
		o.requestTimeout = d
	})
}

// WithMaxFailures sets how many polls in a row may fail before the Conn
// ends with a [*PollError] (default [DefaultMaxFailures]); n must be at
// least 1.
func WithMaxFailures(n int) Option {
	return optionFunc(func(o *options) {
		if n < 1 {
			o.refuse("WithMaxFailures", n, "must be at least 1")
			return
		}
		o.maxFailures = n
	})
}

// WithBackoff sets the wait after failed polls: min after the first failure,
// doubling with each failure in a row up to max, each wait drawn at random
// from its upper half (defaults [DefaultBackoffMin], [DefaultBackoffMax]).
// Both must be positive and min at most max. A Retry-After in the failed
// answer replaces the backoff.
func WithBackoff(min, max time.Duration) Option {
	return optionFunc(func(o *options) {
		if min <= 0 || max <= 0 {
			o.refuse("WithBackoff", [2]time.Duration{min, max}, "must be positive")
			return
		}
		o.backoffMin, o.backoffMax = min, max
	})
}

// WithMaxRetryAfter caps the wait a server's Retry-After imposes on the next
// poll (default [DefaultMaxRetryAfter]); d must be positive.
func WithMaxRetryAfter(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.refuse("WithMaxRetryAfter", d, "must be positive")
			return
		}
		o.maxRetryAfter = d
	})
}

// WithMaxBodySize sets the largest answer body accepted, in bytes (default
// [DefaultMaxBodySize]); n must be at least 1. A larger body ends the Conn
// with close 1009 and [transport.ErrMessageTooLarge].
func WithMaxBodySize(n int64) Option {
	return optionFunc(func(o *options) {
		if n < 1 {
			o.refuse("WithMaxBodySize", n, "must be at least 1")
			return
		}
		o.maxBodySize = n
	})
}

// WithFormat sets how answer bodies become messages (default [JSONArray]).
func WithFormat(f Format) Option {
	return optionFunc(func(o *options) {
		if f > WholeBody {
			o.refuse("WithFormat", f, "unknown format")
			return
		}
		o.format = f
	})
}

// WithPollPath replaces the path of the target URL with path for polls,
// keeping the scheme, host and query (which may carry a token). path must
// start with "/". Use it when the fallback composite hands this transport
// the WebSocket target: ws://host/feed with WithPollPath("/feed/poll") polls
// http://host/feed/poll.
func WithPollPath(path string) Option {
	return optionFunc(func(o *options) {
		if !strings.HasPrefix(path, "/") {
			o.refuse("WithPollPath", path, `must start with "/"`)
			return
		}
		o.pollPath = path
	})
}

// WithSendPath turns sends on: [transport.Conn.Write] POSTs each message to
// the target URL with its path replaced by path (query kept), or to the poll
// URL itself when path is "". path must be "" or start with "/". Without
// this option, Write returns [ErrSendNotConfigured].
func WithSendPath(path string) Option {
	return optionFunc(func(o *options) {
		if path != "" && !strings.HasPrefix(path, "/") {
			o.refuse("WithSendPath", path, `must be "" or start with "/"`)
			return
		}
		o.sendPath, o.sendEnabled = path, true
	})
}

// WithURLRewrite maps the target URL, in its http(s) form, before the paths
// of [WithPollPath] and [WithSendPath] apply: for example to poll another
// host. f is called on the dialing goroutine, once per Dial; an error fails
// the Dial with a [*URLError]. f must not be nil.
func WithURLRewrite(f URLRewrite) Option {
	return optionFunc(func(o *options) {
		if f == nil {
			o.refuse("WithURLRewrite", f, "must not be nil")
			return
		}
		o.rewrite = f
	})
}

// WithSubprotocolHeader names the header that carries subprotocols (default
// [DefaultSubprotocolHeader]). When a target offers subprotocols, every
// request lists them in this header, and the answer to Dial's initial GET
// must name one of them in the same header, or Dial fails with
// [transport.ErrSubprotocol]. The empty name turns negotiation off: offers
// are not sent and Subprotocol reports "".
func WithSubprotocolHeader(name string) Option {
	return optionFunc(func(o *options) { o.protoHeader = name })
}

// WithHTTPClient sets the HTTP client for every request. nil means the
// default: a client of the Transport's own, over a clone of
// [http.DefaultTransport] (so proxies come from the environment and TLS is
// verified, and the Transport keeps a pool of connections of its own) that
// reads at most [MaxHeaderBytes] of an answer's head. The transport uses a
// copy of c that never follows redirects (c is not modified; see the
// package documentation), so c's CheckRedirect is not used. c's Timeout, if any,
// applies on top of [WithRequestTimeout] and of the long-poll wait. Whatever
// the client, an answer whose head is past the bounds of [MaxHeaderBytes]
// is not used and none of its headers is kept; with c, net/http reads up
// to c.Transport's MaxResponseHeaderBytes of it (10 MiB by default).
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(o *options) { o.client = c })
}

// WithClock sets the clock that times the waits between polls and the
// backoff (default [clock.Real]; nil means the default). Tests pass a
// tethertest.FakeClock and step through the waits; HTTP requests still run
// in real time.
func WithClock(c clock.Clock) Option {
	return optionFunc(func(o *options) { o.clock = c })
}
