package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// CallOption configures one request.
type CallOption interface{ applyCall(*callConfig) }

type callConfig struct {
	timeout    time.Duration
	idempotent bool
}

type callOptionFunc func(*callConfig)

func (f callOptionFunc) applyCall(c *callConfig) { f(c) }

// Idempotent marks a request safe to run twice: when the connection it was
// written on ends before its reply, or its write fails with the connection
// failing mid-way (a reset, a broken pipe: it may have arrived), it is sent
// again, with the same id, on the next connection (event retry) instead of
// failing with ErrLost. Its timeout still runs from the call.
func Idempotent() CallOption {
	return callOptionFunc(func(c *callConfig) { c.idempotent = true })
}

// Timeout sets this request's timeout, instead of the client's
// (WithTimeout). A zero or negative d leaves the client's.
func Timeout(d time.Duration) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// Request is one request in flight: its own machine (RequestDef), from
// Pending to one terminal state. Done closes when it gets there; Result
// and Trace say what happened. Safe for concurrent use.
type Request struct {
	c          *Client
	id         uint64
	method     string
	payload    []byte
	idempotent bool
	label      string // "method id N": the machine's Transport label
	// ctx is the caller's ctx, ended also when the request is done
	// (endCtx, by the hook): a Send waiting for room in the send buffer
	// gives up at the request's timeout.
	ctx    context.Context
	endCtx context.CancelFunc
	caller context.Context
	send   func(ctx context.Context, p []byte) error
	// onReply, when set, reads a reply's result on the reader goroutine
	// before the machine hears of it (a subscription registers its key).
	onReply func(result json.RawMessage) error

	m    *fsm.MachineOf[RequestState, RequestEvent]
	done chan struct{}

	// Guarded by c.mu.
	epoch  uint64 // the connection it was written on; 0: in the send buffer
	direct bool   // written at once (a stage's request), not through the buffer
	// wrote: it may have reached the server (written on a connection that
	// ended, or a write of it failed mid-way), so it never ends Unsent.
	wrote bool
	// handing: the tether client's SendTracked has it and has not
	// returned; it may be writing it this moment. The tether client
	// closing meanwhile cannot tell whether it was written: endAll leaves
	// it to the send, with the cause in handEnd.
	handing bool
	handEnd error

	mu       sync.Mutex
	trace    []RequestTransition
	timer    clock.Timer
	stopCtx  func() bool
	result   json.RawMessage
	err      error
	attempts int
}

// ID returns the request's correlation id: its reply carries it.
func (r *Request) ID() uint64 { return r.id }

// Method returns the request's method.
func (r *Request) Method() string { return r.method }

// Done is closed once the request is in a terminal state.
func (r *Request) Done() <-chan struct{} { return r.done }

// State returns the request's state now.
func (r *Request) State() RequestState { return r.m.State() }

// Result returns the reply's result, or the request's error: a
// *RemoteError, a *MalformedReplyError, ErrTimeout, an error matching
// ErrLost (the connection ended, or the write failed mid-way: it may have
// run), ctx's error, or, for a request never written (Unsent), the
// refusal (tether.ErrClosed, a *stream.EncodeError, a full send buffer's
// error). Before Done it returns nil, nil.
func (r *Request) Result() (json.RawMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.result, r.err
}

// Trace returns the request's transitions so far, from the snapshot (Seq
// 0, Pending) on. Draw it with RequestTraceMermaid.
func (r *Request) Trace() []RequestTransition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RequestTransition(nil), r.trace...)
}

// Wait waits until the request is done and returns Result, or returns
// ctx's error first (the request goes on).
func (r *Request) Wait(ctx context.Context) (json.RawMessage, error) {
	select {
	case <-r.done:
		return r.Result()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Go sends a request and returns it in flight, as soon as it is written
// or in the tether client's send buffer: at once, unless that buffer is
// full and its overflow policy is Block, when Go waits for room, at most
// until the request's timeout (it returns the request TimedOut) or ctx's
// end (Cancelled). ctx cancels the request (event cancel) until it is
// done. The id is the client's next, from 1; the reply that carries it
// ends the request; the timeout runs from now, through any wait for room
// or in the send buffer (a request made while disconnected waits there
// and goes out, in order, after the next Open) and any retry. Any
// failure, Send's included, is the request's Result.
func (c *Client) Go(ctx context.Context, method string, params any, opts ...CallOption) *Request {
	id := c.nextID.Add(1)
	payload, err := c.proto.Request(id, method, params)
	return c.start(ctx, id, method, payload, err, nil, nil, opts)
}

// Request sends a request and waits for its reply: its result, or an
// error (see Request.Result). When ctx ends first the request is cancelled
// and ctx's error returned.
func (c *Client) Request(ctx context.Context, method string, params any, opts ...CallOption) (json.RawMessage, error) {
	return c.Go(ctx, method, params, opts...).Wait(context.Background())
}

// Call sends a request, waits for its reply and decodes the result into R
// (encoding/json). Errors as Client.Request's, or, when the result does
// not decode into R, a *DecodeError (ErrDecode) naming the method, with
// the result and the codec's error; R is then its zero value.
func Call[R any](ctx context.Context, c *Client, method string, params any, opts ...CallOption) (R, error) {
	var out R
	raw, err := c.Request(ctx, method, params, opts...)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		var zero R
		return zero, &DecodeError{Method: method, Target: fmt.Sprintf("%T", zero), Data: raw, Err: err}
	}
	return out, nil
}

// Notify sends a message that expects no reply, through the tether
// client's Send (and its send buffer), and returns Send's error, or the
// protocol's: params that do not encode give a *stream.EncodeError.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	conn := c.connection()
	if conn == nil {
		return ErrNotBound
	}
	p, err := c.proto.Notify(method, params)
	if err != nil {
		return err
	}
	return conn.Send(ctx, transport.Message{Type: transport.Text, Payload: p})
}

// start makes the request's machine, arms its timeout and cancellation,
// registers it and sends it. send, when set, writes at once (a stage's
// Send) instead of through the tether client's Send.
func (c *Client) start(ctx context.Context, id uint64, method string, payload []byte, encErr error,
	send func(context.Context, []byte) error, onReply func(json.RawMessage) error, opts []CallOption) *Request {
	cfg := callConfig{timeout: c.timeout}
	for _, o := range opts {
		if o != nil {
			o.applyCall(&cfg)
		}
	}
	m, err := requestChart.New(fsm.WithClock(c.clk))
	if err != nil {
		panic(err) // no option of another type is given
	}
	sendCtx, endCtx := context.WithCancel(ctx)
	r := &Request{c: c, id: id, method: method, payload: payload, idempotent: cfg.idempotent,
		ctx: sendCtx, endCtx: endCtx, caller: ctx, send: send, onReply: onReply, m: m, done: make(chan struct{}), direct: send != nil,
		label: method + " id " + strconv.FormatUint(id, 10)}
	r.trace = append(r.trace, m.Last())
	m.AddHook(r.hook)

	conn := c.connection()
	switch {
	case encErr != nil:
		r.fire(fsm.InputOf[RequestEvent]{Event: EventSendFailed, Cause: encErr})
		return r
	case conn == nil:
		r.fire(fsm.InputOf[RequestEvent]{Event: EventSendFailed, Cause: ErrNotBound})
		return r
	}
	r.mu.Lock()
	r.timer = c.clk.AfterFunc(cfg.timeout, func() {
		r.fire(fsm.InputOf[RequestEvent]{Event: EventTimeout, Cause: ErrTimeout})
	})
	r.stopCtx = context.AfterFunc(ctx, func() {
		r.fire(fsm.InputOf[RequestEvent]{Event: EventCancel, Cause: context.Cause(ctx)})
	})
	r.mu.Unlock()

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		r.fire(fsm.InputOf[RequestEvent]{Event: EventSendFailed, Cause: ErrClosed})
		return r
	}
	if r.m.State() == Pending {
		if r.direct {
			r.epoch = c.view.epoch // a stage writes on its own connection
		}
		// Otherwise the tether client says which connection took it
		// (written): Send while Open may still queue it for the next
		// connection, when the one open now is ending.
		c.pending[id] = r
		r.handing = !r.direct
	}
	c.mu.Unlock()
	if err := r.write(r.ctx, conn); err != nil {
		r.writeFailed(err)
	}
	r.handed()
	return r
}

// handed ends a request that the tether client's close found in the hands
// of its SendTracked (see endAll), now that the send has said whether it
// was written. A write that failed once it may have gone out was handled
// by writeFailed: the request ended, or is marked written.
func (r *Request) handed() {
	c := r.c
	c.mu.Lock()
	r.handing = false
	cause := r.handEnd
	c.mu.Unlock()
	if cause != nil {
		r.endWithoutConnection(cause)
	}
}

// endWithoutConnection ends a request the closed tether client will not
// write again: Lost if it was written (or may have been), Unsent if it
// never was (refused, or left in the send buffer).
func (r *Request) endWithoutConnection(cause error) {
	r.c.mu.Lock()
	wrote := r.wrote
	r.c.mu.Unlock()
	if wrote {
		r.fire(fsm.InputOf[RequestEvent]{Event: EventLost, Cause: lost(cause)})
		return
	}
	r.fire(fsm.InputOf[RequestEvent]{Event: EventSendFailed, Cause: cause})
}

// write sends the request's payload.
func (r *Request) write(ctx context.Context, conn Conn) error {
	if r.send != nil {
		return r.send(ctx, r.payload)
	}
	_, err := conn.SendTracked(ctx, transport.Message{Type: transport.Text, Payload: r.payload}, r.written)
	return err
}

// written records that the tether client wrote the request to the
// connection of epoch (or that a write of it failed once it may have gone
// out). A connection the watcher has already seen end will not be seen
// ending again: the request is handled as its end says now. On the
// goroutine that wrote it; quick.
func (r *Request) written(epoch uint64) {
	c := r.c
	c.mu.Lock()
	r.wrote = true
	v := c.view
	late := v.ended(epoch)
	if !late {
		r.epoch = epoch
	}
	// The client's close left it to its send (handed), which ends it.
	late = late && r.handEnd == nil
	c.mu.Unlock()
	if late {
		// Not on the writer's goroutine (the tether client's flusher,
		// say): an idempotent request is written again, which may wait.
		c.workers.Go(func() { r.connectionEnded(v.endCause, v.endFinal) })
	}
}

// fire applies in and reports whether the request took it. An input the
// machine refuses (the request is done already) is the normal end of a
// race and changes nothing; a reply's caller reports that reply then
// (the request ended between the intercept finding it pending and the
// event).
func (r *Request) fire(in fsm.InputOf[RequestEvent]) bool {
	tr, err := r.m.Fire(context.Background(), r.labelled(in))
	return err == nil && tr.Event == in.Event
}

// labelled gives in the request's label, which every transition carries.
func (r *Request) labelled(in fsm.InputOf[RequestEvent]) fsm.InputOf[RequestEvent] {
	in.Transport = r.label
	return in
}

// hook records every transition and, at the terminal one, settles the
// request. It runs on the machine's actor.
func (r *Request) hook(tr RequestTransition) (fsm.InputOf[RequestEvent], bool) {
	r.mu.Lock()
	r.trace = append(r.trace, tr)
	if tr.To == Pending {
		r.mu.Unlock()
		return fsm.InputOf[RequestEvent]{}, false
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	if r.stopCtx != nil {
		r.stopCtx()
	}
	r.endCtx() // a write still waiting for room gives up
	switch tr.To {
	case Replied:
		if tr.Cause != nil {
			r.result, r.err = nil, tr.Cause
		}
	default:
		r.result, r.err = nil, tr.Cause
	}
	r.mu.Unlock()
	r.c.mu.Lock()
	if r.c.pending[r.id] == r {
		delete(r.c.pending, r.id)
	}
	r.c.mu.Unlock()
	close(r.done)
	return fsm.InputOf[RequestEvent]{}, false
}

// replied hands a reply to the request, on the reader goroutine.
func (r *Request) replied(in Inbound, payload []byte) bool {
	if in.Malformed != nil {
		return r.fire(fsm.InputOf[RequestEvent]{Event: EventBadReply,
			Cause: &MalformedReplyError{ID: r.id, Payload: clone(payload), Err: in.Malformed}})
	}
	var cause error
	if in.Error != nil {
		cause = in.Error
	} else if r.onReply != nil {
		cause = r.onReply(in.Result)
	}
	r.mu.Lock()
	if r.result == nil && r.err == nil {
		r.result = in.Result
	}
	r.mu.Unlock()
	return r.fire(fsm.InputOf[RequestEvent]{Event: EventReply, Cause: cause})
}

// connectionEnded handles the end of the connection the request was
// written on: lost, or sent again when idempotent, unless final (the
// tether client is closing: no connection follows). On the watcher.
func (r *Request) connectionEnded(cause error, final bool) {
	if final || !r.idempotent || r.direct {
		r.fire(fsm.InputOf[RequestEvent]{Event: EventLost, Cause: lost(cause)})
		return
	}
	r.mu.Lock()
	r.attempts++
	n := r.attempts
	r.mu.Unlock()
	tr, err := r.m.Fire(context.Background(), r.labelled(fsm.InputOf[RequestEvent]{Event: EventRetry, Attempt: n, Cause: cause}))
	if err != nil || tr.To != Pending {
		return
	}
	// Sent again once the next socket opens: by then the tether client
	// has let go of the connection that ended (a Send made right as it
	// ends may still be written to it, and fail). A request the tether
	// client reported written only after the watcher saw a later socket
	// open goes out now.
	r.c.mu.Lock()
	r.epoch, r.wrote = 0, true
	now := r.c.view.live
	if !now {
		r.c.resend = append(r.c.resend, r)
	}
	r.c.mu.Unlock()
	if now {
		r.resendNow()
	}
}

// resendNow writes a retried request again, if it is still pending.
func (r *Request) resendNow() {
	if r.m.State() != Pending {
		return
	}
	if err := r.write(r.ctx, r.c.connection()); err != nil {
		r.writeFailed(err)
	}
}
