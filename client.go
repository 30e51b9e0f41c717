package tether

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/internal/errtext"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// URL is what New accepts as a target: a URL (a string, or any named string
// type), or a function called on every attempt that returns one (to put a
// fresh token in the query, say). A function is not taken for a credentials
// provider, as WithCredentials is: the default policy still ends the
// client at a 401 or 403 (ErrUnauthorized) unless its HTTP rules say
// retry (docs/security.md shows how).
type URL interface {
	~string | func(ctx context.Context) (string, error)
}

// Client is one long-lived connection that receives messages of type T: the
// Go counterpart of the seed's useWebSocket. It is built by New from a
// lifecycle machine, a transport, a reconnect policy, a heartbeat and an
// outbound buffer, and exposes the state, the latest message and error,
// Send, Close and Reconnect, and streams of messages, errors and
// transitions.
//
// All methods are safe for concurrent use. Several clients are independent:
// they share nothing.
type Client[T any] struct {
	cfg       config
	onMessage []func(T) // OnMessage's callbacks, in the order given

	m   *fsm.Machine
	con *adapters.Connector
	rec *adapters.Reconnect
	hb  *adapters.Heartbeat
	out *adapters.Outbox
	cb  serializer
	// gate, when set, is closed once the callbacks of the latest Open have
	// run; the reader waits for it before delivering a message.
	gate atomic.Pointer[chan struct{}]
	// stage is the application stage running, if any (stage.go); stages
	// counts their goroutines.
	stage  atomic.Pointer[stageRun]
	stages sync.WaitGroup
	// wasOpen says the connection of the latest socket reached Open (the
	// actor's own): OnClose follows only those.
	wasOpen bool

	messages    *stream.Hub[T]
	errs        *stream.Hub[error]
	transitions *stream.Hub[fsm.Transition]
	drops       *dropTally
	stats       clientStats // counters behind Stats (stats.go)

	// The reader's own: the burst being gathered, and the last payload
	// that decoded (borrowed until the next read).
	in       inbox[T]
	lastGood []byte
	lastType transport.MessageType

	latestMu   sync.Mutex // guards the latest message
	latestRaw  []byte
	latestType transport.MessageType
	hasLatest  bool

	// Before the first consumer, the reader holds what it reads (see hold).
	feedMu     sync.Mutex // orders holding against the first subscription
	held       []T
	heldBytes  int           // payload bytes of held, under feedMu
	consumed   atomic.Bool   // something consumes messages: no holding
	consumer   chan struct{} // made by a reader that waits for the first consumer, closed when consumed turns true; under feedMu
	noConsumer sync.Once
	// Something consumes messages, or ever did, or holds them for a
	// consumer: a message lost at Close or by the transport is then
	// reported. With none (WithHold(0) and no consumer), messages only
	// update Latest, and losing one loses nobody anything.
	wanted atomic.Bool

	mu      sync.Mutex // guards the fields below; never held while user code runs
	lastErr error
	trace   []fsm.Transition

	closeOnce sync.Once
	closeCode transport.StatusCode // of the close frame, chosen by the first Close or CloseWith
	closeWhy  string
	stopFlag  atomic.Bool
	stopping  chan struct{} // closed when shutdown starts
	closed    chan struct{} // closed when shutdown is complete: Close returns
	done      chan struct{} // closed after the last reader and callback
}

// New builds a client for target. Messages are decoded into T with the codec
// (JSON by default), except for three types that skip it: []byte (a copy of
// the payload), string (the payload as text) and transport.Message (the
// frame type and a copy of the payload).
//
// Unless WithAutoConnect(false) is given, it
// starts connecting at once, in the background; New itself does not block on
// the network. Bad options are reported as an *OptionError, before anything
// starts.
func New[T any, U URL](target U, opts ...Option) (*Client[T], error) {
	cfg := defaultConfig()
	var onMessage []func(T)
	for _, o := range opts {
		if o == nil {
			continue
		}
		if om, ok := o.(onMessageOption); ok {
			f, ok := om.f.(func(T))
			if !ok {
				cfg.fail("OnMessage", fmt.Errorf("the callback is a %s, and this client's messages need a %s (New[T] decodes into T)",
					reflect.TypeOf(om.f), reflect.TypeFor[func(T)]()))
				continue
			}
			onMessage = append(onMessage, f)
			continue
		}
		o.apply(&cfg)
	}
	urlFunc, err := urlProvider(target)
	if err != nil {
		cfg.errs = append(cfg.errs, err)
	}
	switch {
	case cfg.tr != nil && cfg.tls != nil:
		cfg.fail("WithTLSConfig", errors.New("cannot be combined with WithTransport: set the TLS configuration on that transport (websocket.WithTLSConfig)"))
	case cfg.tr != nil && len(cfg.wsOptions) > 0:
		cfg.fail("WithCompression", errors.New("cannot be combined with WithTransport: offer it on that transport (websocket.WithCompression)"))
	case cfg.tr == nil:
		ws, err := websocket.New(append([]websocket.Option{websocket.WithTLSConfig(cfg.tls)}, cfg.wsOptions...)...)
		if err != nil {
			cfg.fail("WithTransport", err)
		}
		cfg.tr = ws
	}
	if len(cfg.errs) > 0 {
		return nil, errors.Join(cfg.errs...)
	}

	m, err := newMachine(cfg)
	if err != nil { // WithStage checked every stage
		return nil, &OptionError{Option: "WithStage", Err: err}
	}
	// Last, so that a New refused for another reason leaves it unclaimed.
	// What routed subscribers lose is reported as the client's own
	// subscribers' drops are, once the tally exists.
	var routed atomic.Pointer[dropTally]
	if cfg.router != nil {
		err := cfg.router.Claim(func(typ string, sub stream.SubInfo) {
			if d := routed.Load(); d != nil {
				d.add(dropKey{routeStream(typ), sub})
			}
		})
		if err != nil {
			return nil, &OptionError{Option: "WithRouter", Err: err}
		}
	}
	c := &Client[T]{
		cfg:       cfg,
		onMessage: onMessage,
		m:         m,
		in:        inbox[T]{codec: cfg.codec, kind: kindOf[T]()},
		stopping:  make(chan struct{}),
		closed:    make(chan struct{}),
		done:      make(chan struct{}),
	}
	c.cb.overflow = c.callbacksDropped
	c.drops = &dropTally{clk: clock.OrReal(cfg.clk), report: c.reportDrop}
	routed.Store(c.drops)
	c.messages = stream.NewHub[T](stream.OnAnyDrop(hook[T](c.drops, "messages")))
	// A subscriber of errors or transitions that stops reading must not
	// stop the lifecycle (they are published on the way of dials, drops
	// and decoding): by default it loses its oldest values, reported.
	keepNewest := stream.WithDefaults(stream.WithOverflow(stream.DropOldest))
	c.errs = stream.NewHub[error](stream.OnAnyDrop(hook[error](c.drops, "errors")), keepNewest)
	c.transitions = stream.NewHub[fsm.Transition](stream.OnAnyDrop(hook[fsm.Transition](c.drops, "transitions")),
		stream.WithCurrent(c.m.Last()), keepNewest)
	consumer := len(onMessage) > 0 || len(cfg.onRaw) > 0 || cfg.router != nil
	c.consumed.Store(consumer || cfg.hold == 0)
	c.wanted.Store(consumer || cfg.hold > 0 || len(cfg.intercept) > 0 || len(cfg.stages) > 0)
	// Room for the first connection's Connecting and Open after the start.
	c.trace = append(make([]fsm.Transition, 0, 3), c.m.Last())
	c.m.AddHook(c.record) // first, so streams see a transition before adapters react to it
	c.m.AddHook(c.stats.transition)
	if len(cfg.stages) > 0 {
		c.m.AddHook(c.stageHook) // before the connector's: the reader hands messages to the stage from the first
	}
	if cfg.logger != nil {
		c.m.AddHook(adapters.LogTransitions(cfg.logger))
	}

	c.out = adapters.NewOutbox(c.m,
		adapters.WithBufferLimits(cfg.bufMsgs, cfg.bufBytes),
		adapters.WithOverflow(cfg.overflow),
		adapters.WithDropHook(c.dropped),
		adapters.WithLostHook(c.lost))
	hb, err := adapters.NewHeartbeat(c.m, cfg.heartbeat,
		adapters.WithHeartbeatClock(cfg.clk), adapters.WithRTTHook(c.stats.rttHook(cfg.onRTT)),
		adapters.WithHeartbeatErrorHook(func(err error) { c.report(connectionError(err)) }))
	if err != nil { // validated already by WithHeartbeat; the default is valid
		_ = c.m.Close()
		return nil, &OptionError{Option: "WithHeartbeat", Err: err}
	}
	c.hb = hb
	c.rec = adapters.NewReconnect(c.m, cfg.reconnect,
		adapters.WithReconnectClock(cfg.clk),
		adapters.WithCredentialsRefresh(cfg.refreshable),
		adapters.WithDecisionHook(c.decided))
	c.con = adapters.NewConnector(c.m, cfg.tr, c.targetFunc(urlFunc),
		adapters.WithObserver(c.hb),
		adapters.WithObserver(c.out),
		adapters.WithMessageHandler(c.inbound),
		adapters.WithFlushHandler(c.flush),
		adapters.WithDialTimeout(cfg.connectMax),
		adapters.WithCloseLimit(cfg.closeLimit),
		adapters.WithAbandonHook(c.connAbandoned))

	if cfg.autoConnect {
		if _, err := c.con.Connect(context.Background()); err != nil {
			_ = c.m.Close()
			return nil, err
		}
	}
	return c, nil
}

// connAbandoned reports a connection abandoned under WithCloseLimit.
func (c *Client[T]) connAbandoned(err error) {
	if l := c.cfg.logger; l != nil {
		l.Warn("tether: abandoned a connection whose transport did not let it end", "error", err)
	}
	c.report(connectionError(err))
}

// decided runs on the actor for every reconnect decision.
func (c *Client[T]) decided(d adapters.Decision) {
	c.stats.decided(c.cfg.clk, d)
	if f := c.cfg.onRetry; f != nil && !d.Decision.Stop {
		r := Retry{Attempt: d.Context.Attempt, Delay: d.Decision.Delay, Cause: d.Context.Err}
		c.cb.post(func() { f(r) })
	}
}

func urlProvider[U URL](target U) (func(context.Context) (string, error), error) {
	switch t := any(target).(type) {
	case func(context.Context) (string, error):
		if t == nil {
			return nil, &OptionError{Option: "target", Err: errors.New("nil URL function")}
		}
		return t, nil
	}
	// A string, or a named string type (type Endpoint string).
	if v := reflect.ValueOf(target); v.Kind() == reflect.String {
		raw := v.String()
		if err := checkURL(raw); err != nil {
			return nil, &OptionError{Option: "target", Err: err}
		}
		return func(context.Context) (string, error) { return raw, nil }, nil
	}
	return nil, &OptionError{Option: "target", Err: errInvalid}
}

// checkURL refuses a static URL that no transport could dial: one that does
// not parse, or has no scheme or no host. Which schemes are valid is the
// transport's business, checked when it dials. The error never repeats the
// URL's credentials.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return fmt.Errorf("%w: empty URL", transport.ErrBadTarget)
	case err == nil && !strings.Contains(raw, "://"):
		return fmt.Errorf("%w: %s has no ws:// or wss:// before the host (write ws://%s)", transport.ErrBadTarget,
			transport.RedactURL(raw), transport.RedactURL(raw))
	case err != nil:
		return fmt.Errorf("%w: %s does not parse%s", transport.ErrBadTarget, transport.RedactURL(raw), errtext.URLFault(err))
	case u.Scheme == "":
		return fmt.Errorf("%w: %s has no scheme", transport.ErrBadTarget, transport.RedactURL(raw))
	case u.Host == "":
		return fmt.Errorf("%w: %s has no host", transport.ErrBadTarget, transport.RedactURL(raw))
	case strings.Contains(u.EscapedPath()+u.RawQuery+u.EscapedFragment(), "@"):
		// ws://user:12/pa@host parses with user:12 as the host: dialing it
		// would send the user name to DNS and print it in the error.
		return fmt.Errorf("%w: %s has an '@' after the host, which may end a password (escape a literal one as %%40)", transport.ErrBadTarget, transport.RedactURL(raw))
	case !validPort(u.Port()):
		// Not quoted: what parses as the port may be a password's start
		// (ws://alice:99999?x@host/ when the '@' check is passed by a '#').
		return fmt.Errorf("%w: %s has a port out of range (1 to 65535)", transport.ErrBadTarget, transport.RedactURL(raw))
	}
	return nil
}

// validPort reports whether p, a URL's port, is empty (the scheme's
// default) or a number from 1 to 65535.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// targetFunc builds the dial target on every attempt from the providers.
func (c *Client[T]) targetFunc(url func(context.Context) (string, error)) adapters.TargetFunc {
	return func(ctx context.Context) (transport.Target, error) {
		u, err := url(ctx)
		if err != nil {
			return transport.Target{}, err
		}
		t := transport.Target{URL: u, Header: c.cfg.header.Clone(), Subprotocols: c.cfg.subprotocols}
		if c.cfg.headerFunc != nil {
			h, err := c.cfg.headerFunc(ctx)
			if err != nil {
				return transport.Target{}, err
			}
			if t.Header == nil {
				t.Header = make(map[string][]string, len(h))
			}
			for k, v := range h {
				t.Header[k] = v
			}
		}
		if c.cfg.subprotocolsFunc != nil {
			if t.Subprotocols, err = c.cfg.subprotocolsFunc(ctx); err != nil {
				return transport.Target{}, err
			}
		}
		// Before any transport sees it: a custom one may write the
		// request without checking.
		if err := t.Check(); err != nil {
			return transport.Target{}, err
		}
		return t, nil
	}
}

// Connect starts connecting, if the client is idle (not started yet, or
// after Disconnect), and waits until the connection is open. It returns nil
// once a connection has opened since the call (also when something left it
// before Connect returned: a Disconnect or Close from a callback, a drop),
// the cause when the client reaches Closed first (the policy gave up, or
// Close was called), ErrDisconnected when Disconnect ends the attempt
// before it opens, and a *ConnectError when ctx ends first: it matches ctx's error
// and the latest failure (a certificate the client does not trust, a
// refused handshake), with errors.Is and errors.As. The client keeps trying
// in the background in that case. Called while a Disconnect's close
// handshake is under way, it waits for it to end and then connects.
func (c *Client[T]) Connect(ctx context.Context) error {
	// A connection that opens after this call is a success, even if
	// something leaves it (a Disconnect, Close, a drop) before this
	// goroutine looks at the state.
	opens := c.stats.opens.Load()
	if !c.m.WaitForStateChange(ctx, fsm.Disconnecting) {
		return c.connectError(ctx)
	}
	_, err := c.con.Connect(ctx)
	if err != nil && !errors.Is(err, fsm.ErrForbidden) && !errors.Is(err, fsm.ErrMachineClosed) {
		if ctx.Err() == nil {
			return err
		}
		return c.connectError(ctx)
	}
	for {
		tr := c.m.Last()
		if c.stats.opens.Load() != opens {
			return nil
		}
		switch tr.To {
		case fsm.Open:
			return nil
		case fsm.Closed:
			if tr.Cause != nil {
				return &TransitionError{Transition: tr}
			}
			return ErrClosed
		case fsm.Idle, fsm.Disconnecting:
			return ErrDisconnected
		}
		if !c.m.WaitForStateChange(ctx, tr.To) {
			if c.stats.opens.Load() != opens {
				return nil
			}
			return c.connectError(ctx)
		}
	}
}

// Disconnect closes the connection and keeps the client: subscriptions,
// callbacks, options and the send buffer stay, and nothing reconnects until
// Connect is called. While open it runs the close handshake (code 1000;
// state Disconnecting, then Idle), and while connecting or waiting to
// reconnect it stops at once. Messages sent meanwhile wait in the send
// buffer for the next connection. It returns once the client is Idle, nil
// when it already was, ErrClosed after Close, and ctx's error when ctx ends
// first (the handshake still completes, within the transport's close
// timeout). Close ends the client for good.
//
// Disconnect does not flush: messages still queued go out on the next
// connection (call Flush first to send them on this one). What the server
// sends after the close frame went out and before it answers is still
// read and delivered, to OnMessage and the subscribers as usual (possibly
// just after Disconnect returns, always before anything of the next
// connection), provided the handshake ends within the transport's close
// timeout. The reader of the connection may still be busy (in a handler,
// or delivering the previous connection's messages): the WebSocket
// transport keeps up to 1 MiB for it meanwhile, then stops reading and
// waits for it, and throws nothing away. A message a transport throws
// away instead is reported as an *InboundDropError (Reason ErrDiscarded).
// When the close timeout runs out first (the server still sending, or a
// reader that has not taken what was kept in time), the connection is
// dropped: what was read is still delivered, what was still on its way is
// lost with the connection, uncounted. Disconnect still returns nil (the
// client is Idle); the handshake failed, and Err, the error stream and the
// final transition say so (CloseCode 1006, as for any connection that
// ended without the server's close frame; Cause matches
// transport.ErrTimeout).
//
// So from the reader's own user code (OnMessage, OnRaw, OnOpen, a router
// handler) or a Block Messages loop, while the server keeps sending,
// Disconnect waits for a reader that waits for the caller: once 1 MiB is
// kept, the close times out. There, start it on a goroutine and return
// (go c.Disconnect(ctx)): the reader goes on delivering and the handshake
// completes. Close has no such wait: nothing after it is delivered.
func (c *Client[T]) Disconnect(ctx context.Context) error {
	for {
		st := c.m.Last().To
		switch st {
		case fsm.Idle:
			return nil
		case fsm.Closing, fsm.Closed:
			return ErrClosed
		case fsm.Disconnecting:
			if !c.m.WaitForStateChange(ctx, st) {
				return ctx.Err()
			}
			continue
		}
		_, err := c.con.Disconnect(ctx)
		switch {
		case errors.Is(err, fsm.ErrMachineClosed):
			return ErrClosed
		case errors.Is(err, fsm.ErrForbidden), errors.Is(err, fsm.ErrStale):
			// Lost a race with another event: look again once it shows.
			if !c.m.WaitForStateChange(ctx, st) {
				return ctx.Err()
			}
		case err != nil:
			return err
		}
	}
}

// connectError is Connect's error once ctx ended: ctx's error with the
// latest failure.
func (c *Client[T]) connectError(ctx context.Context) error {
	e := &ConnectError{Err: ctx.Err()}
	if te, ok := errors.AsType[*TransitionError](c.Err()); ok {
		e.Last = te
	}
	return e
}

// Close closes the connection (with the close handshake when it is open) and
// stops everything the client started. It works from any goroutine, in any
// state, any number of times, and from inside any callback, handler or
// subscriber loop of the client's own: every call waits for the same
// shutdown and returns nil once it is complete, or ctx's error when ctx
// ends first (the shutdown still completes, bounded by the transport's
// close timeout and WithCloseLimit; the one thing no limit bounds is a
// Conn.Write that ignores both its ctx and the Conn's Close, which a
// transport must not do: the shutdown waits for every write under way,
// whose outcome is its message's report, so Close returns at ctx and Done
// once that Write returns).
//
// Once Close has been called, no message reaches OnRaw, OnMessage, a
// router or a subscriber, and a subscriber that stopped reading no longer
// holds anything up: what it could not take is dropped and reported.
// Messages still queued in the outbound buffer are reported as dropped.
// When Close returns, the client is Closed, its connection is released and
// its streams have ended; callbacks already queued (OnClose among them)
// and a handler still running may finish after that. Done closes once
// they have.
func (c *Client[T]) Close(ctx context.Context) error {
	return c.close(ctx, transport.StatusNormalClosure, "")
}

// CloseWith is Close with the close frame's code and reason: 1001 when the
// program is going away, an application code (4000-4999, or a registered
// 3000-3999), or another code an endpoint may send; the reason is cut to
// the 123 bytes of UTF-8 a close frame holds. A code that may not be sent
// (1004-1006, 1015, outside 1000-4999) returns an error matching
// ErrInvalidCloseCode and closes nothing. The first Close or CloseWith
// chooses the code; later calls wait for the same shutdown.
func (c *Client[T]) CloseWith(ctx context.Context, code transport.StatusCode, reason string) error {
	if !code.Sendable() {
		return fmt.Errorf("%w: %d (use 1000, 1001, or an application code 4000-4999)", ErrInvalidCloseCode, code)
	}
	return c.close(ctx, code, reason)
}

// close starts the shutdown once, with code and reason, and waits for it.
func (c *Client[T]) close(ctx context.Context, code transport.StatusCode, reason string) error {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeWhy = code, transport.CloseReason(reason)
		c.startShutdown()
	})
	select {
	case <-c.closed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startShutdown starts the shutdown; closeOnce runs it once.
func (c *Client[T]) startShutdown() {
	c.stopFlag.Store(true)
	close(c.stopping)
	// A subscriber that stopped reading must not hold the shutdown: from
	// now on what it cannot take is dropped and reported.
	c.messages.Unblock()
	c.errs.Unblock()
	c.transitions.Unblock()
	if c.cfg.router != nil {
		c.cfg.router.Unblock() // its hubs stay open: the router is the caller's
	}
	go c.shutdown()
}

// stopped reports whether the shutdown has started.
func (c *Client[T]) stopped() bool { return c.stopFlag.Load() }

func (c *Client[T]) shutdown() {
	bg := context.Background()
	for st := c.m.State(); st != fsm.Closed; st = c.m.State() {
		_, err := c.con.Close(bg, c.closeCode, c.closeWhy)
		if errors.Is(err, fsm.ErrMachineClosed) {
			break
		}
		if err != nil { // Closing: wait for the handshake to end
			c.m.WaitForStateChange(bg, st)
		}
	}
	if err := c.con.WaitBackground(bg); err != nil {
		// A connection attempt ignored its cancelled ctx: say so, and do
		// not wait for it (it closes what it returns on its own).
		if l := c.cfg.logger; l != nil {
			l.Warn("tether: shutdown went on without a connection attempt that ignores its ctx", "error", err)
		}
		c.report(connectionError(err))
	}
	_ = c.rec.Wait(bg)
	_ = c.out.Wait(bg)
	_ = c.m.Close()
	c.drops.flush()
	c.dropHeld()
	c.messages.Close()
	c.drops.flush() // what the subscribers Close just ended could not take
	c.errs.Close()
	c.transitions.Close()
	close(c.closed)

	// Done waits for what runs user code: the heartbeat's timers (a
	// MessageFunc may be running, and calling Close), the readers (a
	// handler may be running) and then the callbacks, which include what
	// the readers reported on their way out.
	_ = c.hb.Wait(bg)
	_ = c.con.Wait(bg)
	c.stages.Wait()
	c.dropHeld() // what a reader held as the shutdown began
	c.drops.finish()
	<-c.cb.drained()
	close(c.done)
}

// Done is closed once the client has shut down, after Close or after the
// reconnect policy gave up, and every callback and handler has returned.
// Every stream has ended by then. Do not wait for Done inside a callback:
// it waits for that callback.
func (c *Client[T]) Done() <-chan struct{} { return c.done }

// Reconnect resets the backoff and reconnects now: while waiting, it cuts
// the wait short; while open, it drops the connection and dials again at
// once (for a network change). It returns ErrClosed after Close.
func (c *Client[T]) Reconnect(ctx context.Context) error { return c.rec.RetryNow(ctx) }

// State returns the lifecycle state.
func (c *Client[T]) State() fsm.State { return c.m.State() }

// Status returns the seed's four-valued status (see StatusOf).
func (c *Client[T]) Status() Status { return StatusOf(c.m.State()) }

// IsConnected reports whether the connection is open and ready: Open,
// after the application stages (WithStage) if there are any.
func (c *Client[T]) IsConnected() bool { return c.m.State() == fsm.Open }

// WaitForStateChange blocks until the state differs from from and reports
// true, or until ctx ends and reports false.
func (c *Client[T]) WaitForStateChange(ctx context.Context, from fsm.State) bool {
	return c.m.WaitForStateChange(ctx, from)
}

// Err returns why the client is not connected: the *TransitionError of the
// latest failed connection or attempt (a dial that failed, a drop, a
// heartbeat timeout, the policy giving up). It is nil while a connection
// is open and before any failure, and is never about a message: decode
// errors, drops and other reports go to Errors and OnError only. Close
// leaves it as it was: nil after closing an open connection.
func (c *Client[T]) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// RTT returns the latest heartbeat round-trip time, or 0 before the first.
// A round trip may measure 0 too (on a fake clock, say): Stats().RTTSamples
// says whether one was measured.
func (c *Client[T]) RTT() time.Duration { return c.hb.RTT() }

// Flush waits until every message sent before the call has left the
// outbound buffer: written to a connection, or reported as dropped. It
// returns ctx's error when ctx ends first (while disconnected, say), and
// ErrClosed when the client closes with messages still queued.
func (c *Client[T]) Flush(ctx context.Context) error { return c.out.Flush(ctx) }

// Subprotocol returns the subprotocol the server selected for the open
// connection, or "" (none, or not open).
func (c *Client[T]) Subprotocol() string {
	if s := c.con.Current(); s != nil {
		return s.Conn.Subprotocol()
	}
	return ""
}

// Buffered returns how many messages, and payload bytes, wait in the
// outbound buffer.
func (c *Client[T]) Buffered() (messages, bytes int) { return c.out.Len() }
