package stream

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// RouterOption configures [NewRouter].
type RouterOption interface {
	applyRouter(*Router)
}

type routerOptionFunc func(*Router)

func (f routerOptionFunc) applyRouter(r *Router) { f(r) }

// WithCodec sets the codec that decodes envelopes and their data (default
// [JSON]; nil means JSON). [Envelope] keeps Data as raw JSON, so the codec
// must read JSON for the data step.
func WithCodec(c Codec) RouterOption {
	return routerOptionFunc(func(r *Router) {
		if c != nil {
			r.codec = c
		}
	})
}

// WithFallback sets a function that receives every envelope whose type has
// no route, instead of Dispatch returning [ErrUnknownType]. Its error is
// returned by Dispatch. It runs on the dispatching goroutine.
func WithFallback(f func(env Envelope) error) RouterOption {
	return routerOptionFunc(func(r *Router) { r.fallback = f })
}

// Router routes envelopes by message type to typed handlers ([Handle]) and
// typed streams ([Route]). Registration and dispatch may happen
// concurrently from any goroutines: dispatch reads an immutable routing
// table with one atomic load, registration replaces it. The zero Router is
// ready to use with the JSON codec and no fallback.
type Router struct {
	codec    Codec
	fallback func(Envelope) error

	mu    sync.Mutex // serialises registration
	table atomic.Pointer[routeTable]
	// unblocked: Unblock was called. Routed hubs made later are made
	// unblocked, and a Dispatch goes no further.
	unblocked atomic.Bool
	claimed   atomic.Bool
	// onDrop is the claimer's: told of every value a subscriber of a
	// routed hub loses (see Claim).
	onDrop atomic.Pointer[func(typ string, sub SubInfo)]
}

type routeTable struct {
	routes map[string][]route
	closed bool
}

// route is one registration for one message type.
type route interface {
	dispatch(c Codec, env Envelope) error
	close()
	unblock()
}

// NewRouter returns a router with no routes.
func NewRouter(opts ...RouterOption) *Router {
	r := &Router{codec: JSON}
	for _, o := range opts {
		if o != nil {
			o.applyRouter(r)
		}
	}
	return r
}

// Codec returns the router's codec. It may be called from any goroutine.
func (r *Router) Codec() Codec {
	if r.codec == nil {
		return JSON
	}
	return r.codec
}

// Handle registers h for messages of type typ: Dispatch decodes their data
// into a T and calls h on the dispatching goroutine (the Client's reader),
// so h must be quick; use [Route] to hand messages to another goroutine.
// Several registrations for one type are called in registration order.
// The returned function removes the registration; it is idempotent. On a
// closed router Handle does nothing. Handle may be called from any
// goroutine, concurrently with Dispatch.
func Handle[T any](r *Router, typ string, h func(Message[T])) (remove func()) {
	if h == nil {
		return func() {}
	}
	hr := &handlerRoute[T]{h: h}
	if !r.add(typ, hr) {
		return func() {}
	}
	return func() { r.delete(typ, hr) }
}

// Route returns the hub that Dispatch publishes decoded messages of type typ
// to; subscribe to it for a channel or an iterator of Message[T] (or
// observe it with package rx). The first call for a (typ, T) pair creates the hub with opts;
// later calls return the same hub and ignore opts. A hub that was closed is
// replaced by a new one. On a closed router Route returns a closed hub.
// Route may be called from any goroutine, concurrently with Dispatch.
func Route[T any](r *Router, typ string, opts ...HubOption) *Hub[Message[T]] {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.load()
	if t.closed {
		h := NewHub[Message[T]](opts...)
		h.Close()
		return h
	}
	var stale route
	for _, rt := range t.routes[typ] {
		if hr, ok := rt.(*hubRoute[T]); ok {
			if !hr.hub.closed() {
				return hr.hub
			}
			stale = rt
		}
	}
	hr := &hubRoute[T]{hub: NewHub[Message[T]](opts...)}
	tell := func(sub SubInfo) {
		if f := r.onDrop.Load(); f != nil {
			(*f)(typ, sub)
		}
	}
	hr.hub.owner.Store(&tell)
	if r.unblocked.Load() {
		hr.hub.Unblock()
	}
	rs := slices.Clone(t.routes[typ])
	if stale != nil {
		rs = slices.DeleteFunc(rs, func(x route) bool { return x == stale })
	}
	r.replace(t, typ, append(rs, hr))
	return hr.hub
}

// Dispatch decodes env.Data into the type of each registration for
// env.Type and calls the handlers and publishes to the hubs, in
// registration order, on the calling goroutine. Empty data decodes as the
// zero value.
//
// Errors: a [*DecodeError] when data does not decode (the other
// registrations still run; several errors are joined); a [*RouteError]
// with [ErrUnknownType] when no registration matches and no fallback is
// set, or with [ErrClosed] after Close. Their texts are bounded whatever
// the type and data hold (see [MaxExcerpt]). Dispatch may be called from
// any goroutine.
func (r *Router) Dispatch(env Envelope) error {
	t := r.load()
	if t.closed {
		return &RouteError{Type: env.Type, Err: ErrClosed}
	}
	rs := t.routes[env.Type]
	switch len(rs) {
	case 0:
		if r.fallback != nil {
			return r.fallback(env)
		}
		return &RouteError{Type: env.Type, Err: ErrUnknownType}
	case 1:
		return rs[0].dispatch(r.Codec(), env)
	}
	var errs []error
	for i, rt := range rs {
		if i > 0 && r.unblocked.Load() {
			// The owner stopped (a handler before this one closed the
			// Client, say): the envelope goes no further.
			errs = append(errs, &RouteError{Type: env.Type, Err: ErrCut, Missed: len(rs) - i})
			break
		}
		if err := rt.dispatch(r.Codec(), env); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DispatchPayload decodes payload into an [Envelope] with the router's
// codec, then calls Dispatch. A malformed envelope is a [*DecodeError].
// payload may be a borrowed buffer: nothing of it is kept. It may be
// called from any goroutine.
func (r *Router) DispatchPayload(payload []byte) error {
	env, err := DecodeEnvelope(r.Codec(), payload)
	if err != nil {
		return err
	}
	return r.Dispatch(env)
}

// Close removes every registration and closes every hub made by [Route], so
// their subscribers' channels close. Later Dispatch calls return
// [ErrClosed]. Close is idempotent and may be called from any goroutine.
func (r *Router) Close() {
	r.mu.Lock()
	old := r.table.Swap(&routeTable{closed: true})
	r.mu.Unlock()
	if old == nil || old.closed {
		return
	}
	for _, rs := range old.routes {
		for _, rt := range rs {
			rt.close()
		}
	}
}

// Claim reserves r for one owner that dispatches into it and unblocks it
// when it stops ([Router.Unblock]), as a tether Client does with the
// router it is given. It returns an error matching [ErrRouterClaimed] when
// r was claimed before, also by an owner that has stopped since: Unblock
// is for good, so a router that served one Client would make the Block
// subscribers of the next one drop what they cannot take. Give each
// Client its own Router; the handlers may be the same functions. Claim
// may be called from any goroutine.
//
// onDrop, when not nil, is then called with every value a subscriber of a
// hub made by [Route] loses to its overflow policy (or, once the router is
// unblocked, that a Block subscriber cannot take), with the message type
// and the subscriber, after the hub's own [OnAnyDrop]: the owner reports
// them, as a Client does on its error stream. It runs on the publishing
// goroutine and must be quick.
func (r *Router) Claim(onDrop func(typ string, sub SubInfo)) error {
	if !r.claimed.CompareAndSwap(false, true) {
		return ErrRouterClaimed
	}
	if onDrop != nil {
		r.onDrop.Store(&onDrop)
	}
	return nil
}

// Unblock makes Dispatch stop waiting for the Block subscribers of every
// hub made by [Route], now and later, for good ([Hub.Unblock]): a
// subscriber that stopped reading can no longer hold the dispatching
// goroutine, and what it cannot take is dropped and reported to the hub's
// drop hooks. The hubs stay open, their subscribers keep what they hold.
// A Client calls it on its router when it shuts down, so that a routed
// subscriber cannot keep its reader (and Done) waiting.
//
// Unblock also cuts short the Dispatch in progress, if any, and any later
// one that finds several registrations for its type: the registrations
// after the one running when Unblock was called do not get the envelope,
// and Dispatch returns a [*RouteError] matching [ErrCut] that says how many
// missed it. So a handler that closes its Client is the last to see the
// message, as the Client promises. Unblock may be called from any
// goroutine.
func (r *Router) Unblock() {
	r.unblocked.Store(true) // before the lock: a Dispatch under way stops at its next registration
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range r.load().routes {
		for _, rt := range rs {
			rt.unblock()
		}
	}
}

// load returns the current routing table; the zero Router has none yet.
func (r *Router) load() *routeTable {
	if t := r.table.Load(); t != nil {
		return t
	}
	return &routeTable{}
}

// add appends rt to typ's routes; false when the router is closed.
func (r *Router) add(typ string, rt route) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.load()
	if t.closed {
		return false
	}
	r.replace(t, typ, append(slices.Clone(t.routes[typ]), rt))
	return true
}

func (r *Router) delete(typ string, rt route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.load()
	if t.closed || !slices.Contains(t.routes[typ], rt) {
		return
	}
	rs := slices.DeleteFunc(slices.Clone(t.routes[typ]), func(x route) bool { return x == rt })
	r.replace(t, typ, rs)
}

// replace stores a copy of t with typ's routes set to rs. r.mu is held.
func (r *Router) replace(t *routeTable, typ string, rs []route) {
	next := &routeTable{routes: make(map[string][]route, len(t.routes)+1)}
	for k, v := range t.routes {
		next.routes[k] = v
	}
	if len(rs) == 0 {
		delete(next.routes, typ)
	} else {
		next.routes[typ] = rs
	}
	r.table.Store(next)
}

type handlerRoute[T any] struct {
	h func(Message[T])
}

func (hr *handlerRoute[T]) dispatch(c Codec, env Envelope) error {
	m, err := decodeMessage[T](c, env)
	if err != nil {
		return err
	}
	hr.h(m)
	return nil
}

func (hr *handlerRoute[T]) close()   {}
func (hr *handlerRoute[T]) unblock() {}

type hubRoute[T any] struct {
	hub *Hub[Message[T]]
}

func (hr *hubRoute[T]) dispatch(c Codec, env Envelope) error {
	m, err := decodeMessage[T](c, env)
	if err != nil {
		return err
	}
	hr.hub.Publish(m)
	return nil
}

func (hr *hubRoute[T]) close()   { hr.hub.Close() }
func (hr *hubRoute[T]) unblock() { hr.hub.Unblock() }

func decodeMessage[T any](c Codec, env Envelope) (Message[T], error) {
	m := Message[T]{Type: env.Type, Timestamp: env.Timestamp}
	if len(env.Data) == 0 {
		return m, nil
	}
	err := decodeInto(c, env.Type, env.Data, &m.Data)
	return m, err
}
