package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// DefaultTimeout bounds a request unless WithTimeout or Timeout says
// otherwise.
const DefaultTimeout = 30 * time.Second

// ResubscribeStage is the lifecycle stage, named "Resubscribing", the rpc client adds to its tether
// client (see Options): on every connection, between the socket opening
// and Open, every live subscription is made again and its answer awaited.
// A message other than a reply or a live subscription's notification read
// while it runs holds the stage until its timeout (docs/framework.md,
// "Known limitation").
var ResubscribeStage = fsm.DefineStage("Resubscribing")

// Conn is what the rpc client needs of a tether client: a
// *tether.Client[T] of any T is one. Requests go out through SendTracked,
// which says which connection took each one (tether.Client.SendTracked).
type Conn interface {
	Send(ctx context.Context, v any) error
	SendTracked(ctx context.Context, v any, onWrite func(epoch uint64)) (uint64, error)
	State() fsm.State
	Trace() []fsm.Transition
	Transitions(ctx context.Context, opts ...stream.SubOption) *stream.Subscription[fsm.Transition]
}

// Client sends requests and holds subscriptions over one tether client,
// in the wire format of a Protocol. Build it with New, give its Options to
// tether.New, then Bind the tether client. All methods are safe for
// concurrent use.
type Client struct {
	proto   Protocol
	clk     clock.Clock
	timeout time.Duration
	errs    *stream.Hub[error]
	nextID  atomic.Uint64

	bindOnce sync.Once
	conn     Conn
	bound    chan struct{} // closed by Bind
	stop     context.CancelFunc
	watcher  sync.WaitGroup
	workers  sync.WaitGroup // unsubscribe requests

	mu      sync.Mutex
	pending map[uint64]*Request
	byKey   map[string]*topic // the protocol's key of live subscriptions
	topics  map[string]*topic // by topic and params, while not ended
	// leaving holds, by topic and params, a subscription whose last
	// reader left and whose unsubscribe is not yet answered: a new one
	// waits for it (topic.left), so the server sees them in order.
	leaving map[string]*topic
	view    view
	resend  []*Request    // retried requests, to send when the next socket opens
	changed chan struct{} // closed and replaced when view changes
	closed  bool
}

// view is the connection as the watcher has seen it so far, in order.
type view struct {
	live   bool   // a socket is open (a stage, or Open)
	open   bool   // the connection is ready: Open
	epoch  uint64 // the epoch of the live connection, or of the last one
	conns  int    // how many sockets opened
	closed bool   // the tether client reached Closed
	// endCause and endFinal are how the latest connection ended, for a
	// request the tether client reports written to it only after the
	// watcher saw it end.
	endCause error
	endFinal bool
}

// ended reports whether the watcher has seen the connection of epoch end.
// c.mu is held.
func (v *view) ended(epoch uint64) bool {
	return epoch < v.epoch || epoch == v.epoch && !v.live
}

// Option configures New.
type Option interface{ apply(*Client) }

type optionFunc func(*Client)

func (f optionFunc) apply(c *Client) { f(c) }

// WithTimeout sets the default timeout of a request (DefaultTimeout).
// A zero or negative d leaves the default.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *Client) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// WithClock sets the clock request timeouts run on; give the tether
// client's (tether.WithClock). The default is the real clock.
func WithClock(clk clock.Clock) Option {
	return optionFunc(func(c *Client) { c.clk = clock.OrReal(clk) })
}

// New returns a client speaking p. It sends nothing until Bind.
func New(p Protocol, opts ...Option) *Client {
	c := &Client{
		proto:   p,
		clk:     clock.Real(),
		timeout: DefaultTimeout,
		errs:    stream.NewHub[error](stream.WithDefaults(stream.WithOverflow(stream.DropOldest))),
		bound:   make(chan struct{}),
		pending: make(map[uint64]*Request),
		byKey:   make(map[string]*topic),
		topics:  make(map[string]*topic),
		leaving: make(map[string]*topic),
		changed: make(chan struct{}),
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// Options returns the tether options the client needs: a
// tether.WithIntercept that claims replies and the notifications of live
// subscriptions (everything else flows on to the tether client's streams),
// the Resubscribing stage (ResubscribeStage, with tether.WithStage), and
// tether.WithHold(0): a message rpc does not claim, arriving while nothing
// reads the tether client's Messages, updates Latest only, instead of
// being held for a first consumer (tether's default, DefaultHold), which
// would stop the reader, and every request with it, after 256 of them in
// a program that uses only rpc. Give them to tether.New, then Bind the
// tether client. Options apply in order: a tether.WithHold given after
// these wins (for a program that reads Messages beside rpc and wants the
// messages before its first subscriber).
func (c *Client) Options() []tether.Option {
	return []tether.Option{
		tether.WithHold(0),
		tether.WithIntercept(c.intercept),
		tether.WithStage(ResubscribeStage, c.resubscribe),
	}
}

// Bind gives the client the tether client built with its Options, and
// starts watching its transitions (one goroutine, until Close or until the
// tether client closes). Only the first Bind counts: later ones return
// false.
func (c *Client) Bind(conn Conn) bool {
	first := false
	c.bindOnce.Do(func() {
		first = true
		ctx, cancel := context.WithCancel(context.Background())
		c.conn, c.stop = conn, cancel
		// Every transition, none dropped: a missed connection end would
		// leave its requests pending until their timeouts. The watcher
		// never waits on the tether client, so it keeps up.
		sub := conn.Transitions(ctx, stream.WithOverflow(stream.Block))
		close(c.bound)
		c.watcher.Go(func() {
			for tr := range sub.All() {
				c.observe(tr)
			}
			sub.Close()
		})
	})
	return first
}

// connection returns the bound Conn, or nil.
func (c *Client) connection() Conn {
	select {
	case <-c.bound:
		return c.conn
	default:
		return nil
	}
}

// Errors subscribes to what the client reports beside the answers it
// returns: replies to no pending request (*UnknownReplyError) and
// notifications that did not decode (*DecodeError). Options as for
// tether's Client.Errors, but the default overflow is stream.DropOldest:
// the errors are published on the connection's reader goroutine, so a
// subscriber that falls more than its buffer (default 256) behind loses
// the oldest, counted by its Dropped, rather than stop the reader and
// every request with it. stream.WithOverflow(stream.Block) loses none, and
// then the subscriber must keep reading.
func (c *Client) Errors(ctx context.Context, opts ...stream.SubOption) *stream.Subscription[error] {
	return c.errs.Subscribe(ctx, opts...)
}

func (c *Client) report(err error) { c.errs.Publish(err) }

// Close ends the client: pending requests end Lost, their error matching
// ErrLost and ErrClosed (one still in the send buffer is written when the
// tether client next opens: it may run), subscriptions end (their streams
// close; Err is ErrClosed), and the watcher stops. Requests and
// subscriptions made afterwards fail with ErrClosed. A Resubscribing stage under way passes at once
// (the tether client goes on to Open), and so do the stages of later
// connections: nothing is left to make again. It does not close the
// tether client, and sends no unsubscribe request. It is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.watcher.Wait()
		c.workers.Wait()
		return nil
	}
	c.closed = true
	close(c.changed) // a Resubscribing stage waiting in waitLive sees it
	c.changed = make(chan struct{})
	c.mu.Unlock()
	c.bindOnce.Do(func() {}) // no Bind from now on
	if c.stop != nil {
		c.stop()
	}
	c.watcher.Wait()
	c.endAll(ErrClosed, false)
	c.workers.Wait()
	c.errs.Close()
	return nil
}

// intercept claims replies and the notifications of live subscriptions,
// on the tether client's reader goroutine.
func (c *Client) intercept(msg transport.Message) bool {
	in := c.proto.Classify(msg.Payload)
	switch in.Kind {
	case Reply:
		c.mu.Lock()
		r := c.pending[in.ID]
		c.mu.Unlock()
		if r == nil || !r.replied(in, msg.Payload) {
			// No request waits for it, or the one found ended before the
			// reply reached it (its timeout or ctx won the race: an
			// outside review saw 23-49 of 20,000 such replies vanish).
			c.report(&UnknownReplyError{ID: in.ID, Remote: in.Error, Payload: clone(msg.Payload)})
		}
		return true
	case Notification:
		c.mu.Lock()
		t := c.byKey[in.Key]
		c.mu.Unlock()
		if t == nil {
			return false // no live subscription: it flows on, nothing is lost
		}
		t.deliver(in.Data)
		return true
	}
	return false
}

// observe follows the tether client's transitions, in order, on the
// watcher goroutine: it marks requests lost (or sends them again) when
// their connection ends, and subscriptions for resubscribing.
func (c *Client) observe(tr fsm.Transition) {
	live := tr.To == fsm.Open || tr.To.IsStage()
	closed := tr.To == fsm.Closed
	// A connection left for Closing (or Closed) was ended by the tether
	// client's Close, whatever its transition carries: no connection
	// follows.
	cause, final := tr.Cause, tr.To == fsm.Closing || closed
	if final {
		cause = endedFor(tr)
	}
	var (
		ended, resend []*Request
		topics        []*topic
	)
	c.mu.Lock()
	v := &c.view
	switch {
	case live && !v.live:
		v.live, v.epoch = true, tr.Epoch
		v.conns++
		resend, c.resend = c.resend, nil
	case !live && v.live:
		v.live, v.open = false, false
		v.endCause, v.endFinal = cause, final
		for _, r := range c.pending {
			if r.epoch == v.epoch {
				ended = append(ended, r)
			}
		}
		for k, t := range c.byKey {
			delete(c.byKey, k)
			topics = append(topics, t)
		}
	}
	if tr.To == fsm.Open {
		// Requests that waited in the send buffer learn the connection
		// that took them from the tether client (Request.written), not
		// from this: the buffer may write some to this connection and,
		// should it end part-way, the rest to the next.
		v.open = true
	}
	v.closed = v.closed || closed
	if final {
		// No connection follows: a late report is final too, and ends
		// with the give-up (or the Close), as endAll's do.
		v.endCause, v.endFinal = cause, true
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()

	if len(resend) > 0 {
		// Into the send buffer, written after Open; not on the watcher:
		// a full buffer makes Send wait for Open, and the stage before
		// Open waits for the watcher (waitLive).
		c.workers.Go(func() {
			for _, r := range resend {
				r.resendNow()
			}
		})
	}
	for _, r := range ended {
		r.connectionEnded(cause, final)
	}
	for _, t := range topics {
		t.dropped(cause)
	}
	if closed {
		c.endAll(cause, true)
	}
}

// endedFor is the cause of what the tether client's transition tr to
// Closing or Closed ends: its Close (ErrClosed, and tether.ErrClosed), or,
// when the reconnect policy gave up, the give-up with the last
// connection's failure in it (tether.ErrClosed, and not ErrClosed: nobody
// closed it).
func endedFor(tr fsm.Transition) error {
	if tr.Event == fsm.EventGiveUp && tr.Cause != nil {
		return fmt.Errorf("%w: %w", tether.ErrClosed, tr.Cause)
	}
	return errTetherClosed
}

// endAll ends every pending request and subscription with cause. With
// unsent (the tether client closed), a request still in the send buffer
// of a connection that never opened was never written: Unsent, not Lost.
func (c *Client) endAll(cause error, unsent bool) {
	c.mu.Lock()
	rs := make([]*Request, 0, len(c.pending))
	var queued []*Request
	for _, r := range c.pending {
		switch {
		case unsent && r.handing:
			// Being written, perhaps: its send decides (handed).
			r.handEnd = cause
			continue
		case unsent && r.epoch == 0 && !r.direct && !r.wrote:
			queued = append(queued, r)
			continue
		}
		rs = append(rs, r)
	}
	ts := make([]*topic, 0, len(c.topics))
	for _, t := range c.topics {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	if d, ok := c.conn.(interface{ Done() <-chan struct{} }); ok && len(queued) > 0 {
		// The client's flusher may be writing one of them this moment (it
		// took it from the buffer before the connection ended): once the
		// client is done, every write has said so (Request.written), and
		// what was not written never will be.
		go func() {
			<-d.Done()
			endWithoutConnection(queued, cause)
		}()
	} else {
		endWithoutConnection(queued, cause)
	}
	for _, r := range rs {
		r.fire(fsm.InputOf[RequestEvent]{Event: EventLost, Cause: lost(cause)})
	}
	for _, t := range ts {
		t.end(cause)
	}
}

// endWithoutConnection ends the requests the closed tether client had in
// its send buffer: Unsent, or Lost if it wrote one after all.
func endWithoutConnection(queued []*Request, cause error) {
	for _, r := range queued {
		r.endWithoutConnection(cause)
	}
}

// waitLive waits until the watcher has seen the socket of epoch open, and
// returns the number of sockets opened so far.
func (c *Client) waitLive(ctx context.Context, epoch uint64) (int, error) {
	for {
		c.mu.Lock()
		v, ch, closed := c.view, c.changed, c.closed
		c.mu.Unlock()
		if closed {
			return 0, ErrClosed
		}
		if v.live && v.epoch >= epoch {
			return v.conns, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		}
	}
}

// resubscribe is the Resubscribing stage: it makes every subscription of
// the last connection again, on this one, and waits for the answers. Once
// the client is closed (before or during the stage) it passes at once:
// nothing is left to make again.
func (c *Client) resubscribe(ctx context.Context, st *tether.Stage) error {
	conn := c.connection()
	if conn == nil || c.isClosed() {
		return nil // not bound yet, or closed: nothing to make again
	}
	trace := conn.Trace()
	conns, err := c.waitLive(ctx, trace[len(trace)-1].Epoch)
	if errors.Is(err, ErrClosed) {
		return nil
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	var ts []*topic
	for _, t := range c.topics {
		if t.m.State() == Resubscribing {
			ts = append(ts, t)
		}
	}
	c.mu.Unlock()
	send := func(ctx context.Context, p []byte) error {
		return st.Send(ctx, transport.Message{Type: transport.Text, Payload: p})
	}
	calls := make([]*Request, len(ts))
	for i, t := range ts {
		calls[i] = t.subscribe(ctx, send)
	}
	var failed error
	for i, r := range calls {
		err := ts[i].settle(r, conns-1)
		if err != nil && !refusal(err) && failed == nil {
			failed = err // no answer: the stage fails, the policy decides
		}
	}
	if c.isClosed() {
		return nil // what failed, the client's Close ended
	}
	return failed
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func clone(p []byte) []byte { return append([]byte(nil), p...) }
