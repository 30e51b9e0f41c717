package adapters

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// TargetFunc builds the target of one dial. The Connector calls it on every
// attempt, on the dial goroutine, so URLs, headers and subprotocols can carry
// freshly fetched credentials. An error fails that attempt (dial_failed with
// the error as cause) and the reconnect policy decides what follows.
type TargetFunc func(ctx context.Context) (transport.Target, error)

// StaticTarget returns a TargetFunc that always returns t.
func StaticTarget(t transport.Target) TargetFunc {
	return func(context.Context) (transport.Target, error) { return t, nil }
}

// Connector drives connections for a [fsm.Machine]: it dials on every entry
// to Connecting, starts the reader when the socket opens (the dialed event:
// Open, or the first application stage before it), runs the close
// handshake on Closing, and tears a session down when the machine leaves
// Open or a stage for another state. Observers follow each session.
//
// It spends one goroutine at a time per connection: the dial goroutine while
// dialing, then the reader while open (a close handshake runs on a
// short-lived goroutine of its own).
//
// Readers run one at a time: the reader of a new connection starts reading
// only once the reader of the previous one has returned, so messages reach
// the handler in the order the connections carried them and the handler
// never runs on two goroutines at once, even when it was still busy with
// the old connection's last message when the new one opened.
//
// All methods are safe for concurrent use.
type Connector struct {
	m          *fsm.Machine
	tr         transport.Transport
	target     TargetFunc
	observers  []Observer
	inbound    []InboundObserver // the observers that see control frames
	data       []InboundObserver // the observers that see data messages too
	onMessage  func(s *Session, msg transport.Message)
	onFlush    func(s *Session)
	dialLimit  time.Duration // bound on one attempt: the target and the Dial; 0 for none
	closeLimit time.Duration // bound on a Conn's Close, and on its Read after it; 0 for none
	onAbandon  func(error)   // told of each Conn abandoned under closeLimit

	wg      sync.WaitGroup // close handshakes
	dials   sync.WaitGroup // connection attempts
	readers sync.WaitGroup
	remove  func()

	mu         sync.Mutex
	dialCancel context.CancelFunc
	pending    *Session // dialed, waiting for the Open transition
	current    *Session // open or closing
	closeCode  transport.StatusCode
	closeWhy   string
	lastReader chan struct{} // closed when the latest session's reader returns
}

// ConnectorOption configures a Connector.
type ConnectorOption interface{ applyConnector(*Connector) }

type connectorOption func(*Connector)

func (f connectorOption) applyConnector(c *Connector) { f(c) }

// WithObserver adds an observer of every session, called in the order added.
// An [InboundObserver] also sees every inbound message.
func WithObserver(o Observer) ConnectorOption {
	return connectorOption(func(c *Connector) {
		c.observers = append(c.observers, o)
		if in, ok := o.(InboundObserver); ok {
			c.inbound = append(c.inbound, in)
			if co, ok := in.(ControlObserver); !ok || !co.ControlOnly() {
				c.data = append(c.data, in)
			}
		}
	})
}

// WithMessageHandler sets the function that receives every data message
// (Text or Binary), on the session's reader goroutine, after the observers.
// The payload is borrowed: copy what must outlive the call.
func WithMessageHandler(f func(s *Session, msg transport.Message)) ConnectorOption {
	return connectorOption(func(c *Connector) { c.onMessage = f })
}

// WithFlushHandler sets the function called on the reader goroutine after
// the data messages that were ready together: once the connection has no
// more complete messages buffered (see [transport.BacklogOf]; after every
// message when the Conn cannot tell), and once more when the reader
// returns, its connection ended, whether or not messages came since
// ([Session.LastFlush] tells it). A message handler that gathers messages
// hands them on here, so that a burst costs one hand-over instead of one
// per message; the last call is where it can account for the connection's
// end.
func WithFlushHandler(f func(s *Session)) ConnectorOption {
	return connectorOption(func(c *Connector) { c.onFlush = f })
}

// WithDialTimeout bounds each attempt, whatever the transport: resolving
// the target (credentials included) and the transport's Dial run under a
// ctx that ends d after the attempt starts (in real time, like the
// transport's own network deadlines), and the attempt fails then with a
// *transport.TimeoutError (phase "connect", matching transport.ErrTimeout),
// even if the transport's Dial does not honour its ctx (a connection it
// returns later is closed). 0, the default, sets no bound beyond the
// transport's own.
func WithDialTimeout(d time.Duration) ConnectorOption {
	return connectorOption(func(c *Connector) { c.dialLimit = max(d, 0) })
}

// NewConnector attaches a connector to m. It dials through tr, at the target
// that target returns.
func NewConnector(m *fsm.Machine, tr transport.Transport, target TargetFunc, opts ...ConnectorOption) *Connector {
	c := &Connector{m: m, tr: tr, target: target, closeCode: transport.StatusNormalClosure}
	for _, o := range opts {
		o.applyConnector(c)
	}
	c.remove = m.AddHook(c.hook)
	return c
}

// Connect starts the first dial (Idle to Connecting).
func (c *Connector) Connect(ctx context.Context) (fsm.Transition, error) {
	return c.m.Fire(ctx, fsm.Input{Event: fsm.EventConnect, Transport: c.tr.Name()})
}

// Close asks to close with code and reason: from Open it starts the close
// handshake, from any other live state it closes at once. It returns the
// transition it made. The messages the peer sends before it answers are
// not wanted: a transport that can (see transport.ReaderReleaser) throws
// them away, counted, instead of keeping them for the reader, so that a
// reader busy elsewhere (in the very callback that called Close, say) does
// not hold the handshake. Disconnect keeps them for the reader.
func (c *Connector) Close(ctx context.Context, code transport.StatusCode, reason string) (fsm.Transition, error) {
	c.mu.Lock()
	c.closeCode, c.closeWhy = code, reason
	c.mu.Unlock()
	return c.m.Fire(ctx, fsm.Input{Event: fsm.EventClose})
}

// Disconnect asks to disconnect with code 1000 and no reason: from Open it
// starts the close handshake (Disconnecting, then Idle), from Connecting
// and Waiting it goes to Idle at once. The machine then waits in Idle for
// the next Connect. It returns the transition it made.
func (c *Connector) Disconnect(ctx context.Context) (fsm.Transition, error) {
	c.mu.Lock()
	c.closeCode, c.closeWhy = transport.StatusNormalClosure, ""
	c.mu.Unlock()
	return c.m.Fire(ctx, fsm.Input{Event: fsm.EventDisconnect})
}

// Current returns the open session, or nil.
func (c *Connector) Current() *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current != nil && !c.current.Closing() {
		return c.current
	}
	if c.pending != nil && live(c.m.State()) {
		// Open, and the hooks that make it current have not run yet (a
		// stream subscriber hears of Open first): it is the open one.
		return c.pending
	}
	return nil
}

// DialAbandonGrace is how long, in real time, WaitBackground waits for a
// connection attempt after the machine reached Closed (which cancels it).
// A transport's Dial that honours its ctx returns well within it.
const DialAbandonGrace = time.Second

// Wait blocks until the close goroutines and the readers have returned, or
// ctx ends. Call it after the machine reached Closed and WaitBackground
// returned.
func (c *Connector) Wait(ctx context.Context) error {
	if err := waitGroup(ctx, &c.wg); err != nil {
		return err
	}
	return waitGroup(ctx, &c.readers)
}

// WaitBackground blocks until the dial and close goroutines have returned,
// or ctx ends; readers may still be running. A reader returns once its
// connection has ended and the handlers it is calling have returned: a
// client closing from inside a handler waits here, not for itself.
//
// Call it after the machine reached Closed, which cancels the attempt in
// progress. An attempt that has not returned DialAbandonGrace later (its
// Dial ignores its ctx) is not waited for: WaitBackground returns an error
// matching ErrDialAbandoned, and a connection the attempt returns later is
// closed by its own goroutine.
func (c *Connector) WaitBackground(ctx context.Context) error {
	grace, cancel := context.WithTimeout(ctx, DialAbandonGrace)
	defer cancel()
	err := waitGroup(grace, &c.dials)
	if err != nil && ctx.Err() == nil {
		err = ErrDialAbandoned
	}
	if werr := waitGroup(ctx, &c.wg); werr != nil {
		return werr
	}
	return err
}

// Detach removes the connector's hook from the machine.
func (c *Connector) Detach() { c.remove() }

// hook runs on the machine's actor after every transition.
func (c *Connector) hook(tr fsm.Transition) (fsm.Input, bool) {
	if live(tr.From) && !live(tr.To) {
		c.leaveOpen(tr)
	}
	if tr.From == fsm.Connecting && live(tr.To) {
		c.open(tr) // the socket opened: the first stage, or Open
	}
	switch tr.To {
	case fsm.Connecting:
		c.startDial(tr.Epoch)
	case fsm.Open:
		c.ready()
	case fsm.Closing, fsm.Disconnecting:
		c.startClose(tr.To == fsm.Closing)
	case fsm.Closed, fsm.Idle: // Idle only after Disconnect
		c.mu.Lock()
		if c.dialCancel != nil {
			c.dialCancel() // an abandoned dial closes what it made
			c.dialCancel = nil
		}
		c.mu.Unlock()
	}
	return fsm.Input{}, false
}

func (c *Connector) startDial(epoch uint64) {
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.dialCancel = cancel
	c.mu.Unlock()
	c.dials.Go(func() { c.dial(ctx, cancel, epoch) })
}

func (c *Connector) dial(ctx context.Context, cancel context.CancelFunc, epoch uint64) {
	defer cancel()
	var (
		expired  *transport.TimeoutError
		watching func() bool // stops the deadline's watcher; false once it ran
	)
	if c.dialLimit > 0 {
		expired = &transport.TimeoutError{Phase: "connect", After: c.dialLimit}
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, c.dialLimit, expired)
		defer stop()
		watching = context.AfterFunc(ctx, func() {
			if context.Cause(ctx) != expired {
				return // cancelled: the machine moved on
			}
			// Fail the attempt now, whether or not the transport's Dial
			// honours its ctx: the machine moves on, and a connection
			// the Dial returns later is closed.
			_, _ = c.m.Fire(context.Background(), fsm.Input{Event: fsm.EventDialFailed, Cause: expired, Epoch: epoch})
		})
	}
	target, err := c.resolve(ctx)
	var conn transport.Conn
	if err == nil {
		conn, err = c.tr.Dial(ctx, target)
		if err == nil && conn == nil {
			err = ErrNilConn
		}
		if err != nil {
			if conn != nil && !isNil(conn) {
				// A Conn and an error break the contract: the attempt
				// failed, and nobody else would close what it returned.
				_ = c.closeConn(nil, conn, transport.StatusAbnormalClosure, "")
			}
			conn = nil
		}
	}
	if watching != nil && !watching() && context.Cause(ctx) == expired {
		// The deadline passed first, and its watcher failed the attempt.
		if conn != nil {
			_ = c.closeConn(nil, conn, transport.StatusAbnormalClosure, "")
		}
		return
	}
	if err != nil && expired != nil && context.Cause(ctx) == expired {
		err = &transport.TimeoutError{Phase: "connect", After: c.dialLimit, Err: err}
	}
	if err != nil {
		// A provider's or a custom transport's error may quote a URL
		// with its credentials: the cause is shown, logged and traced.
		_, _ = c.m.Fire(context.Background(), fsm.Input{Event: fsm.EventDialFailed, Cause: transport.RedactErr(err), Epoch: epoch})
		return
	}
	s := &Session{Epoch: epoch, Conn: conn, Transport: transportName(c.tr, conn),
		progress: transport.ProgressOf(conn), confirmer: transport.ConfirmerOf(conn), tracked: true}
	c.mu.Lock()
	c.pending = s
	c.mu.Unlock()
	_, err = c.m.Fire(context.Background(), fsm.Input{Event: fsm.EventDialed, Epoch: epoch, Transport: s.Transport})
	if err != nil {
		// The machine moved on (closed mid-dial): nobody will use conn.
		c.mu.Lock()
		if c.pending == s {
			c.pending = nil
		}
		c.mu.Unlock()
		_ = c.closeConn(nil, conn, transport.StatusAbnormalClosure, "")
	}
}

// resolve returns the attempt's target, or ctx's error as soon as ctx
// ends. The target's providers are the program's code and run on a
// goroutine of their own, not waited for once the attempt is over: one
// may call Close, which waits for the attempt, and one that ignores its
// ctx does not hold Close (its late result is thrown away).
func (c *Connector) resolve(ctx context.Context) (transport.Target, error) {
	type resolved struct {
		target transport.Target
		err    error
	}
	got := make(chan resolved, 1)
	go func() {
		t, err := c.target(ctx)
		got <- resolved{t, err}
	}()
	select {
	case r := <-got:
		return r.target, r.err
	case <-ctx.Done():
		return transport.Target{}, ctx.Err()
	}
}

// isNil reports whether conn holds a nil pointer (or other nil value) in a
// non-nil interface, as a Dial that fails with a typed nil returns.
func isNil(conn transport.Conn) bool {
	v := reflect.ValueOf(conn)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// transportName asks the connection first, for composites whose connections
// come from different transports.
func transportName(tr transport.Transport, conn transport.Conn) string {
	if n, ok := conn.(transport.TransportNamer); ok {
		return n.TransportName()
	}
	return tr.Name()
}

func (c *Connector) open(tr fsm.Transition) {
	c.mu.Lock()
	s := c.pending
	c.pending = nil
	c.dialCancel = nil
	if s == nil || s.Epoch != tr.Epoch {
		c.mu.Unlock()
		return // cannot happen: Dialed is guarded by the epoch
	}
	c.current = s
	prev := c.lastReader
	done := make(chan struct{})
	c.lastReader = done
	c.mu.Unlock()
	s.opened.Store(tr.Time.UnixNano())
	for _, o := range c.observers {
		o.Opened(s)
	}
	if e := transport.ExpecterOf(s.Conn); e != nil {
		// The reader may not call Read for a while (it waits for the
		// previous one below): a Close meanwhile must wait for it, not
		// take the connection for one nobody reads and throw away what
		// the peer sends before its answer.
		e.ExpectReader()
	}
	// The reader's place (done, readers) is released when it returns, or
	// earlier if the close limit abandons it in a Read (watchReader).
	s.gate.finish = sync.OnceFunc(func() {
		close(done)
		c.readers.Done()
	})
	c.readers.Add(1)
	go func() {
		defer s.gate.finish()
		defer s.gate.readerExited()
		if prev != nil {
			// The previous reader may still be in a handler: wait, so
			// that handlers see connections in order and one at a time,
			// even when this connection has already ended (a Disconnect
			// right after Connect): its buffered messages are still read
			// and delivered, after the previous reader's.
			<-prev
		}
		c.read(s)
	}()
}

// ready tells the observers that want to know that the current session is
// ready: the machine reached Open.
func (c *Connector) ready() {
	c.mu.Lock()
	s := c.current
	c.mu.Unlock()
	if s == nil {
		return
	}
	for _, o := range c.observers {
		if r, ok := o.(ReadyObserver); ok {
			r.Ready(s)
		}
	}
}

// live reports whether the machine has a socket in use in s: Open, or an
// application stage before it.
func live(s fsm.State) bool { return s == fsm.Open || s.IsStage() }

// read is the session's reader goroutine.
func (c *Connector) read(s *Session) {
	backlog := transport.BacklogOf(s.Conn)
	count := s.progress == nil // keep the session's own account of reads
	unflushed := false
	for {
		if s.pastCloseLimit(c.closeLimit) { // one atomic load while Close has not returned
			// The Conn keeps handing out messages long after its Close
			// returned: a Read its Close does not end, which would hold
			// the shutdown for ever. Given up as one that blocks is.
			s.gate.flag.Store(gateAbandoned)
			err := fmt.Errorf("%w: its Read still returned messages %v after its Close returned", ErrConnAbandoned, c.closeLimit)
			c.abandoned(err)
			c.endRead(s, err)
			return
		}
		if count {
			s.reads.Add(1)
			s.inRead.Store(true)
		}
		msg, err := s.Conn.Read()
		if count {
			s.inRead.Store(false)
			s.reads.Add(1)
		}
		if s.gate.flag.Load() != gateOpen && !s.gate.pass() {
			return // abandoned under the close limit: deliver nothing
		}
		if err != nil {
			c.endRead(s, err)
			return
		}
		switch msg.Type {
		case transport.Text, transport.Binary:
			for _, o := range c.data {
				o.Inbound(s, msg)
			}
			if c.onMessage != nil {
				c.onMessage(s, msg)
				unflushed = c.onFlush != nil
			}
		case transport.Ping, transport.Pong:
			for _, o := range c.inbound {
				o.Inbound(s, msg)
			}
		default:
			// The Conn broke its contract: drop it, and say why.
			_ = c.closeConn(nil, s.Conn, transport.StatusAbnormalClosure, "") // an abort: no close frame
			c.endRead(s, fmt.Errorf("%w: type %d, %d bytes", ErrBadMessageType, msg.Type, len(msg.Payload)))
			return
		}
		if unflushed && (backlog == nil || !backlog.Buffered()) {
			unflushed = false
			c.onFlush(s)
		}
	}
}

// endRead ends the read loop of s with err: a last flush (also with
// nothing unflushed: the connection has ended), then the drop.
func (c *Connector) endRead(s *Session, err error) {
	s.lastFlush.Store(true)
	if c.onFlush != nil {
		c.onFlush(s)
	}
	c.readEnded(s, err)
}

func (c *Connector) readEnded(s *Session, err error) {
	if s.Closing() {
		// Our close ended the read. The close goroutine reports how the
		// handshake went, when Conn.Close returns.
		return
	}
	code, _ := transport.CloseCode(err)
	_, _ = c.m.Fire(context.Background(), fsm.Input{
		Event: fsm.EventDropped, Cause: transport.RedactErr(err), CloseCode: uint16(code), Epoch: s.Epoch,
	})
}

// leaveOpen ends the current session's time as the open connection.
func (c *Connector) leaveOpen(tr fsm.Transition) {
	c.mu.Lock()
	s := c.current
	handshake := tr.To == fsm.Closing || tr.To == fsm.Disconnecting
	if !handshake {
		c.current = nil
	}
	c.mu.Unlock()
	if s == nil {
		return
	}
	if handshake {
		s.closing.Store(true)
	}
	s.leave()
	for _, o := range c.observers {
		o.Ended(s, tr)
	}
	if tr.To == fsm.Waiting {
		code, reason := transport.StatusNormalClosure, ""
		switch {
		case errors.Is(tr.Cause, ErrHeartbeatTimeout):
			// The peer is silent: no handshake, drop the socket now.
			code = transport.StatusAbnormalClosure
		case errors.Is(tr.Cause, ErrReconnectRequested):
			reason = "reconnecting"
		}
		c.wg.Go(func() { _ = c.closeConn(s, s.Conn, code, reason) })
	}
}

// startClose starts the close handshake of the current session. For Close
// (release), what the peer sends before its answer is not wanted: the
// transport may throw it away, counted, rather than keep it for the reader
// (see transport.ReaderReleaser); Disconnect keeps it for the reader.
func (c *Connector) startClose(release bool) {
	c.mu.Lock()
	s, code, reason := c.current, c.closeCode, c.closeWhy
	c.current = nil
	c.mu.Unlock()
	if s == nil {
		return
	}
	if r := transport.ReleaserOf(s.Conn); release && r != nil {
		r.ReleaseReader()
	}
	c.wg.Go(func() {
		// nil when the peer answered our close; otherwise why not (a
		// timeout, or the connection failing meanwhile). A transport may
		// return nil for a connection that had already failed: its end
		// then says so.
		err := c.closeConn(s, s.Conn, code, reason)
		if err == nil && endedAbnormally(s.Conn.Err()) {
			err = s.Conn.Err()
		}
		in := fsm.Input{Event: fsm.EventClosed, Cause: transport.RedactErr(err), CloseCode: uint16(code), Epoch: s.Epoch}
		if err != nil {
			// No close frame came back: the code is the one the error
			// carries, or 1006 (the close timeout ran out, the write of
			// our close frame failed), as for a connection lost without
			// a close frame.
			in.CloseCode = uint16(transport.StatusAbnormalClosure)
			if got, ok := transport.CloseCode(err); ok {
				in.CloseCode = uint16(got)
			}
		}
		_, _ = c.m.Fire(context.Background(), in)
	})
}

// endedAbnormally reports whether a connection's end error says it failed
// (a drop, an error, a close without a close frame) rather than ending with
// a close handshake.
func endedAbnormally(err error) bool {
	ce, ok := errors.AsType[*transport.CloseError](err)
	if !ok {
		return err != nil
	}
	return ce.Err != nil || !ce.Code.Sendable()
}

// answeredOurClose reports whether a connection's end error says the peer
// answered the close frame this side sent: then it read everything written
// before it.
func answeredOurClose(err error) bool {
	ce, ok := errors.AsType[*transport.CloseError](err)
	return ok && !ce.Remote && ce.Err == nil && ce.Code.Sendable()
}
