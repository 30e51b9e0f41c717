package tether

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// Option configures a Client. Options are applied in order by New, which
// checks the result and reports the first problem as an *OptionError.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config is what the options set. New copies defaults in first.
type config struct {
	errs []error // problems found while applying options

	subprotocols     []string
	subprotocolsFunc func(ctx context.Context) ([]string, error)
	header           http.Header
	headerFunc       func(ctx context.Context) (http.Header, error)
	refreshable      bool
	autoConnect      bool

	reconnect policy.Reconnect
	heartbeat policy.Heartbeat

	onOpen       func(fsm.Transition)
	onClose      func(fsm.Transition)
	onDone       func(fsm.Transition)
	onError      func(error)
	onTransition func(fsm.Transition)
	onDrop       func(Drop)
	onRTT        func(time.Duration)
	onRetry      func(Retry)
	onRaw        []func(transport.Message) // in the order given; the reader looks at Close between them
	intercept    []func(transport.Message) bool
	hold         int
	stages       []stageSpec
	stageTimeout time.Duration

	tr         transport.Transport
	codec      stream.Codec
	router     *stream.Router
	bufMsgs    int
	bufBytes   int
	overflow   stream.Overflow
	logger     *slog.Logger
	clk        clock.Clock
	traceLimit int
	connectMax time.Duration
	closeLimit time.Duration
	tls        *tls.Config
	wsOptions  []websocket.Option // more options of the default WebSocket transport (WithCompression)
}

func (c *config) fail(option string, err error) {
	c.errs = append(c.errs, &OptionError{Option: option, Err: err})
}

// errInvalid is wrapped by option errors that have no richer cause.
var errInvalid = errors.New("invalid value")

// invalid says what is wrong with a value and what to do instead; it
// matches errInvalid.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errInvalid}, args...)...)
}

// WithSubprotocols offers subprotocols in preference order. A server that
// selects none of them fails the dial (transport.ErrSubprotocol). Each must
// be a token offered once (transport.Target.Check): New refuses others.
func WithSubprotocols(protocols ...string) Option {
	return optionFunc(func(c *config) {
		if err := (transport.Target{Subprotocols: protocols}).Check(); err != nil {
			c.fail("WithSubprotocols", err)
		}
		c.subprotocols = append([]string(nil), protocols...)
	})
}

// WithSubprotocolsFunc computes the subprotocols on every attempt. A list
// that transport.Target.Check refuses ends the attempt with an error
// matching transport.ErrBadTarget, before anything is dialed, and the
// default policy gives up. f runs as WithHeaderFunc says.
func WithSubprotocolsFunc(f func(ctx context.Context) ([]string, error)) Option {
	return optionFunc(func(c *config) {
		if f == nil {
			c.fail("WithSubprotocolsFunc", invalid("nil function (use WithSubprotocols for a fixed list)"))
		}
		c.subprotocolsFunc = f
	})
}

// WithHeader sends h with every handshake. New refuses a header name that
// is not a token and a value holding a CR, LF or other control character
// (transport.Target.Check). The WebSocket transport leaves out the headers
// the handshake writes itself (Upgrade, Connection, Sec-WebSocket-Key,
// -Version, -Protocol and -Extensions: use WithSubprotocols and
// WithCompression) and those that frame a body it does not have
// (Content-Length, Transfer-Encoding), and a Host header replaces the URL's
// host in the request. HTTP polling sends every header as given (Host too), but sets
// its subprotocol header and a send's Content-Type itself.
func WithHeader(h http.Header) Option {
	return optionFunc(func(c *config) {
		if err := (transport.Target{Header: h}).Check(); err != nil {
			c.fail("WithHeader", err)
		}
		c.header = h.Clone()
	})
}

// WithHeaderFunc computes handshake headers on every attempt, after the
// static ones from WithHeader. Headers that transport.Target.Check refuses
// end the attempt with an error matching transport.ErrBadTarget, before
// anything is dialed, and the default policy gives up.
//
// f, like every provider of the attempt (WithCredentials,
// WithSubprotocolsFunc, a URL function given to New), runs on a goroutine
// of its own and may call any method of the client, Close and Disconnect
// included; Connect waits for the open that the attempt f is part of,
// which waits for f, so from f it returns only when its ctx ends. Once its
// attempt is over (Close, Disconnect, the connect timeout) it is no longer
// waited for, and what it returns is thrown away: it should honour ctx, or
// it may still run while the next attempt calls it again.
func WithHeaderFunc(f func(ctx context.Context) (http.Header, error)) Option {
	return optionFunc(func(c *config) {
		if f == nil {
			c.fail("WithHeaderFunc", invalid("nil function (use WithHeader for fixed headers)"))
		}
		c.headerFunc = f
	})
}

// WithCredentials fetches credentials as headers (an Authorization bearer
// token, say) on every attempt. Because a retry carries fresh credentials,
// the reconnect policy retries a 401 or 403 instead of giving up. f runs
// as WithHeaderFunc says: it may call Close (an account the token service
// says is gone, say), and should honour ctx.
func WithCredentials(f func(ctx context.Context) (http.Header, error)) Option {
	return optionFunc(func(c *config) {
		if f == nil {
			c.fail("WithCredentials", invalid("nil function"))
		}
		c.headerFunc, c.refreshable = f, true
	})
}

// WithAutoConnect says whether New starts connecting at once (true, the
// default, as the seed's autoConnect) or waits for Connect. Callbacks may
// then run before New returns (see OnOpen): a callback that uses the
// client itself is simplest with false, the client stored, then Connect.
func WithAutoConnect(on bool) Option {
	return optionFunc(func(c *config) { c.autoConnect = on })
}

// WithReconnect sets the reconnect policy. Default: policy.Default(),
// exponential backoff from 1 s by 1.6 to 30 s with equal jitter and the
// default close-code and HTTP-status rules.
//
// A *policy.Policy (from policy.New or policy.Default) is used as it is. A
// bare strategy (policy.Exponential{...}, policy.Constant, policy.Func, a
// type of your own) is composed with the default rules, exactly as
// policy.New(strategy) does, and validated here: a strategy alone used to
// drop every close-code and HTTP-status rule and Retry-After, and an
// invalid one failed only at run time. To change the rules, build the
// policy with policy.New and its options.
func WithReconnect(p policy.Reconnect) Option {
	return optionFunc(func(c *config) {
		switch pp := p.(type) {
		case nil:
			c.fail("WithReconnect", errors.New("nil policy (use WithoutReconnect to never reconnect)"))
		case *policy.Policy:
			c.reconnect = pp
		default:
			composed, err := policy.New(p)
			if err != nil {
				c.fail("WithReconnect", err)
				return
			}
			c.reconnect = composed
		}
	})
}

// WithReconnectAttempts is the seed's simple form: at most attempts
// reconnects in a row, interval apart (with the default close-code and
// HTTP-status rules).
func WithReconnectAttempts(attempts int, interval time.Duration) Option {
	return optionFunc(func(c *config) {
		p, err := policy.New(policy.Constant(interval), policy.WithMaxAttempts(attempts))
		if err != nil {
			c.fail("WithReconnectAttempts", err)
			return
		}
		if attempts < 1 {
			c.fail("WithReconnectAttempts", invalid("attempts %d: want at least 1 (WithoutReconnect never reconnects)", attempts))
			return
		}
		c.reconnect = p
	})
}

// WithoutReconnect never reconnects: the first failure closes the client.
func WithoutReconnect() Option {
	return optionFunc(func(c *config) {
		p, _ := policy.New(policy.Never())
		c.reconnect = p
	})
}

// WithHeartbeat sets the heartbeat. Default: policy.DefaultHeartbeat(), a
// WebSocket ping every 15 s with a 10 s pong timeout.
func WithHeartbeat(h policy.Heartbeat) Option {
	return optionFunc(func(c *config) {
		if err := h.Validate(); err != nil {
			c.fail("WithHeartbeat", err)
		}
		c.heartbeat = h
	})
}

// WithHeartbeatMessage makes the heartbeat send an application message
// instead of a ping frame (the seed's heartbeatMessage), every interval,
// expecting a sign of life within pongTimeout. msg is sent as text, so it
// must be valid UTF-8: New refuses it otherwise (policy.Heartbeat.Validate).
func WithHeartbeatMessage(msg string, interval, pongTimeout time.Duration) Option {
	return WithHeartbeat(policy.Heartbeat{Interval: interval, PongTimeout: pongTimeout,
		Mode: policy.AppMessage, Message: []byte(msg)})
}

// WithoutHeartbeat turns the heartbeat off. Half-open connections then go
// unnoticed until a write fails.
func WithoutHeartbeat() Option {
	return optionFunc(func(c *config) { c.heartbeat = policy.DisabledHeartbeat() })
}

// then returns a function that calls f, then g; either may be nil. Every
// callback option adds its function this way: given twice (by a program
// and by a layer such as package rpc, say), both run, in the order given.
func then[A any](f, g func(A)) func(A) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(a A) { f(a); g(a) }
}

// OnOpen calls f after every transition to Open, before the first message
// of that connection is delivered. Like every On option, it adds f: given
// more than once, each function runs, in the order the options were given. Callbacks run one at a time, in order, on
// a goroutine of the client's, never under a lock: they may call any method
// of the client, Close included. OnOpen must not wait for a message: the
// connection's messages are held until it returns.
//
// With auto-connect (the default) New starts connecting before it returns,
// so a callback may run before the caller has stored the client New
// returned: a callback that reads that variable races with the
// assignment. Build such a client with WithAutoConnect(false), store it,
// then call Connect (or hand it over through a channel or an
// atomic.Pointer).
func OnOpen(f func(fsm.Transition)) Option {
	return optionFunc(func(c *config) { c.onOpen = then(c.onOpen, f) })
}

// OnClose calls f each time a connection that was open ends, whoever ended
// it, exactly once per OnOpen: when the server closes or the connection
// drops (Open to Waiting, before any reconnect), and when the close
// handshake of Close or Disconnect ends (to Closed or Idle). The
// transition's CloseCode is the code the wire carried (1006 for a
// connection lost without a close frame, also when the server never
// answered our close frame within the close timeout: Cause then matches
// transport.ErrTimeout) and its Cause says why; a
// *transport.CloseError in it (errors.As) has the reason and whether the
// server sent it. Same goroutine as OnOpen. For the end of the client
// itself, see OnDone.
func OnClose(f func(fsm.Transition)) Option {
	return optionFunc(func(c *config) { c.onClose = then(c.onClose, f) })
}

// OnDone calls f once, after the transition to Closed: the client closed,
// or the reconnect policy gave up (the transition's cause says why). It
// runs before Done closes. Same goroutine as OnOpen.
func OnDone(f func(fsm.Transition)) Option {
	return optionFunc(func(c *config) { c.onDone = then(c.onDone, f) })
}

// OnError calls f with every error the error stream carries: failed dials,
// drops, heartbeat timeouts, the give-up, decode errors and drop reports,
// each in one class (errors.Is with ErrConnection, ErrMessage or
// ErrDelivery). Same goroutine as OnOpen. Like the other callbacks, a call
// that finds 1,024 callbacks waiting for a slow one is dropped, counted and
// reported as a *CallbackDropError once there is room (the report of what
// a connection left unconfirmed is never dropped): keep an account that
// must be exact on OnDrop, or on an Errors subscriber with stream.Block.
func OnError(f func(error)) Option {
	return optionFunc(func(c *config) { c.onError = then(c.onError, f) })
}

// OnTransition calls f with every transition. Same goroutine as OnOpen.
func OnTransition(f func(fsm.Transition)) Option {
	return optionFunc(func(c *config) { c.onTransition = then(c.onTransition, f) })
}

// OnDrop calls f with every message dropped from the outbound buffer
// (ErrBufferFull), left queued at Close (ErrClosed) or possibly lost when
// its connection failed (ErrPossiblyLost), with its ID and value, for a
// program that sends it again. The error stream reports the same drops
// (*DropError, *PossiblyLostError). f runs on the client's callback
// goroutine, in order with the other callbacks, so it may call Close.
// Unlike the other callbacks it is never dropped for a slow callback: the
// drops wait for it, in memory, as long as it lags.
func OnDrop(f func(Drop)) Option {
	return optionFunc(func(c *config) { c.onDrop = then(c.onDrop, f) })
}

// Retry describes a reconnect the policy scheduled.
type Retry struct {
	// Attempt is the number of the attempt in the current streak, from 1.
	Attempt int
	// Delay is how long the client waits before it.
	Delay time.Duration
	// Cause is why the last connection or dial ended.
	Cause error
}

// OnRetry calls f every time the reconnect policy schedules an attempt,
// with the delay it chose. Same goroutine as OnOpen.
func OnRetry(f func(Retry)) Option {
	return optionFunc(func(c *config) { c.onRetry = then(c.onRetry, f) })
}

// OnRTT calls f with every heartbeat round trip, on the reader goroutine.
// It must not block.
func OnRTT(f func(time.Duration)) Option {
	return optionFunc(func(c *config) { c.onRTT = then(c.onRTT, f) })
}

// WithTransport sets the transport. Default: WebSocket (transport/websocket)
// with its defaults.
func WithTransport(t transport.Transport) Option {
	return optionFunc(func(c *config) {
		if t == nil {
			c.fail("WithTransport", invalid("nil transport (leave the option out for the default WebSocket transport)"))
		}
		c.tr = t
	})
}

// WithTLSConfig sets the TLS configuration of the default WebSocket
// transport, to trust a private CA (RootCAs) or present a client
// certificate, say; it is cloned. Verification stays on unless the config
// turns it off. It cannot be combined with WithTransport: configure that
// transport's TLS instead (websocket.WithTLSConfig).
func WithTLSConfig(cfg *tls.Config) Option {
	return optionFunc(func(c *config) {
		if cfg == nil {
			c.fail("WithTLSConfig", invalid("nil config (leave the option out for the system roots)"))
			return
		}
		c.tls = cfg.Clone()
	})
}

// WithCodec sets the codec that decodes messages into T and encodes values
// passed to Send that are neither string nor []byte. Default: stream.JSON.
func WithCodec(codec stream.Codec) Option {
	return optionFunc(func(c *config) {
		if codec == nil {
			c.fail("WithCodec", invalid("nil codec (leave the option out for stream.JSON)"))
		}
		c.codec = codec
	})
}

// WithRouter dispatches every inbound message, read as an envelope
// {type, data, timestamp}, through r: to the handlers and typed streams
// registered per type. Routing errors go to the error stream; the
// connection stays open.
//
// r stays the caller's: Close does not close it (its routed hubs and
// their subscribers go on until r.Close), but unblocks it (Router.Unblock),
// so that a routed Block subscriber that stopped reading cannot hold the
// shutdown; what it cannot take from then on is dropped. Every value a
// routed subscriber loses is reported as the client's own subscribers'
// drops are (a *SubscriberDropError whose Stream is route and the quoted
// message type), besides the hub's own drop hooks. So a router serves one Client in its life: New
// claims it (Router.Claim) and refuses one that another Client, open or
// closed, has claimed, with an *OptionError matching
// stream.ErrRouterClaimed. Give each Client its own router; the handlers
// may be the same functions.
func WithRouter(r *stream.Router) Option {
	return optionFunc(func(c *config) {
		if r == nil {
			c.fail("WithRouter", invalid("nil router"))
		}
		c.router = r
	})
}

// WithSendBuffer bounds the messages queued while no connection is open:
// at most messages messages and bytes payload bytes, with overflow deciding
// what a Send into a full buffer does: stream.Block (wait under the Send's
// ctx), stream.DropOldest, stream.DropNewest (both reported to OnDrop and
// the error stream) or stream.Fail (Send returns ErrBufferFull); the same
// Overflow type as a subscriber's, whose stream.Disconnect does not apply
// here. Defaults: 1024 messages, 4 MiB, stream.Block. The bounds are on what waits, not on what may be sent:
// while the connection is open and nothing is queued, a message of any size
// is written at once; one that must wait and is larger than bytes is
// refused with an *adapters.QueueSizeError (ErrTooLargeToQueue).
func WithSendBuffer(messages, bytes int, overflow stream.Overflow) Option {
	return optionFunc(func(c *config) {
		if messages < 1 || bytes < 1 || overflow > stream.Fail || overflow == stream.Disconnect {
			c.fail("WithSendBuffer", invalid("messages %d, bytes %d, overflow %v: want at least 1 message and 1 byte, and one of Block, DropOldest, DropNewest, Fail (defaults: %d messages, %d bytes, Block)", messages, bytes, overflow, adapters.DefaultMaxQueued, adapters.DefaultMaxQueuedBytes))
			return
		}
		c.bufMsgs, c.bufBytes, c.overflow = messages, bytes, overflow
	})
}

// DefaultHold is how many messages a client holds, by default, for its
// first consumer (see WithHold).
const DefaultHold = 256

// WithHold sets how many messages the client holds for its first consumer
// when they arrive before anything consumes them (no Messages or
// rx.Messages subscriber, OnMessage, OnRaw or router yet): a server
// that greets or sends a snapshot on connect loses nothing to a program
// that subscribes just after New. The first subscriber receives the held
// messages first, in order. With n held, or 16 MiB of payload whatever n
// says (a compressed message inflates a thousandfold: the bytes held must
// not be the server's to choose), the reader stops reading until a
// consumer arrives (the peer waits, nothing is lost, and ErrNoConsumer is
// reported once), or until that connection is over: then the reader reads
// what the connection still had buffered and drops it, reported as an
// *InboundDropError (Reason ErrNoConsumer, or ErrDiscarded for what the
// transport threw away when the connection failed), so that the next
// connection (and its application stages, WithStage) can be read. A
// waiting reader does not notice a server that hangs up: the connection
// ends when a write fails (a heartbeat ping) or the program closes it.
// Default: DefaultHold.
//
// 0 turns holding off: messages that arrive while nothing consumes them
// update Latest only. Use it for a client that only sends, or only looks at
// Latest, which would otherwise stop reading (and so stop seeing pongs)
// after n unconsumed messages. Such a client, while it has never had a
// consumer (a Messages subscriber, OnMessage, OnRaw, a router, WithIntercept
// or a stage), reports no inbound message as dropped, not even those read
// after Close or thrown away by the transport: none was for anybody.
func WithHold(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 {
			c.fail("WithHold", invalid("%d: want 0 (hold nothing) or more", n))
			return
		}
		c.hold = n
	})
}

// WithLogger records every transition with its cause, and every dropped
// message, on l.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithClock sets the clock every delay, probe and timestamp runs on.
// Tests pass a tethertest.FakeClock.
func WithClock(clk clock.Clock) Option {
	return optionFunc(func(c *config) {
		if clk == nil {
			c.fail("WithClock", invalid("nil clock (leave the option out for the real clock)"))
		}
		c.clk = clk
	})
}

// DefaultConnectTimeout bounds one connection attempt by default: the
// credentials and header functions, then the transport's Dial (for the
// WebSocket transport, the TCP connect, TLS and the upgrade, which it
// bounds at 20 s on its own).
const DefaultConnectTimeout = 30 * time.Second

// WithConnectTimeout bounds each connection attempt, whatever the
// transport: the WithCredentials, WithHeaderFunc and WithSubprotocolsFunc
// functions and the transport's Dial run under a ctx that ends d after
// the attempt starts (in real time, like the transport's own network
// deadlines: a fake clock does not step it), and the attempt fails then
// with a *transport.TimeoutError (matching transport.ErrTimeout), even if
// a custom transport's Dial ignores its ctx. The reconnect policy decides
// what follows, as for any failed dial. Close and Done do not wait for
// such a Dial beyond adapters.DialAbandonGrace (1 s): the attempt is
// reported as abandoned (adapters.ErrDialAbandoned, on the error stream
// and to OnError) and a connection it returns later is closed. Default:
// DefaultConnectTimeout.
func WithConnectTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.fail("WithConnectTimeout", invalid("%v: want a positive duration (default %v)", d, DefaultConnectTimeout))
		}
		c.connectMax = d
	})
}

// WithCloseLimit bounds, in real time, how long the client waits for a
// connection to end once it closes it, whatever the transport: for the
// Conn's Close to return, then for a Read in progress to return, and for
// Read to stop handing out messages. A custom transport whose Close never
// returns, whose Read its Close does not unblock, or whose Read returns a
// message every time after its Close, would otherwise hold Closing, the
// next connection and Done for ever (what such a reader read after Close
// is one drop report). Each wait is bounded by d, and they follow one
// another (a Read is watched in rounds of d once Close returned), so Done
// may take a few times d: an outside review measured up to three times d
// for a Conn whose Close and Read both never return. Past the limit the connection is abandoned and reported (with
// adapters.ErrConnAbandoned, to OnError, the logger and the error stream
// while it is open: a Read given up during Close is reported after the
// streams ended, to OnError and the logger only). A Close given up makes
// the machine move on as after a failed close handshake, the Closed (or
// Idle) transition carrying the error; a reader given up in its Read
// delivers nothing that Read returns later. A reader that is delivering to
// the program is never given up. The goroutine inside the Conn stays there
// until the Conn lets it go.
//
// Keep d longer than the transport's own close timeout: a close handshake
// legitimately takes up to that long (after Disconnect, the reader first
// delivers what the peer sent before its answer), and one that takes
// longer than d is reported abandoned although the Conn is sound (its
// messages are still delivered). The shipped transports end well within
// the default, adapters.DefaultCloseLimit (10 s, twice the WebSocket close
// timeout).
func WithCloseLimit(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.fail("WithCloseLimit", invalid("%v: want a positive duration (default %v)", d, adapters.DefaultCloseLimit))
		}
		c.closeLimit = d
	})
}

// WithTraceLimit sets how many recent transitions Trace keeps (default
// 256).
func WithTraceLimit(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 {
			c.fail("WithTraceLimit", invalid("%d: want at least 1 (default 256)", n))
		}
		c.traceLimit = n
	})
}

// defaultPolicy is shared by every client that does not set its own: a
// policy is immutable and keeps no state.
var defaultPolicy = policy.Default()

func defaultConfig() config {
	return config{
		hold:         DefaultHold,
		stageTimeout: DefaultStageTimeout,
		autoConnect:  true,
		reconnect:    defaultPolicy,
		heartbeat:    policy.DefaultHeartbeat(),
		codec:        stream.JSON,
		bufMsgs:      adapters.DefaultMaxQueued,
		bufBytes:     adapters.DefaultMaxQueuedBytes,
		overflow:     stream.Block,
		clk:          clock.Real(),
		traceLimit:   256,
		connectMax:   DefaultConnectTimeout,
		closeLimit:   adapters.DefaultCloseLimit,
	}
}
