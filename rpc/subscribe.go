package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
)

// topic is one subscription to a topic, with its machine
// (SubscriptionDef), shared by every reader of the same topic and params.
type topic struct {
	c      *Client
	name   string
	params any
	ident  string // name and params: the key in c.topics
	m      *fsm.MachineOf[SubState, SubEvent]

	mu sync.Mutex
	// readers is copy-on-write: deliver iterates a snapshot of it outside
	// mu, so a backing array, once shared, is never written again (join
	// and leave make a new one).
	readers []reader
	key     string // the protocol's key, while subscribed
	trace   []SubTransition
	err     error
	settled chan struct{} // closed when the first subscribe is answered
	left    chan struct{} // closed when it is done leaving (see Client.leaving)
	// leftOnce closes left.
	leftOnce sync.Once
	// remaking is set while the Resubscribing stage's subscribe is
	// unsettled; a last reader leaving meanwhile sets leaveAfter, and the
	// leave waits for that answer (the server may hold the subscription).
	remaking, leaveAfter bool
	// abandoned is set when its last reader left: the topic is on its way
	// out (its unsubscribe may not have started yet), and a new reader
	// must make a new subscription instead of joining it.
	abandoned bool
}

// reader is one Subscription, whatever its T.
type reader interface {
	deliver(data json.RawMessage)
	finish()
}

// Subscription is one reader of a topic: the notifications, decoded into
// T, read through C (a channel) or All (an iterator), in order. Each
// reader has its own queue (stream options: WithBuffer, WithOverflow;
// default 256 and Block, so a slow reader slows the connection down rather
// than lose anything). Readers of the same topic and params share one
// subscription on the server and one machine; the last reader to Close
// unsubscribes. Safe for concurrent use.
type Subscription[T any] struct {
	t    *topic
	hub  *stream.Hub[T]
	sub  *stream.Subscription[T]
	stop func() bool
	once sync.Once
}

// C returns the channel notifications arrive on. It closes when the
// subscription ends (Close, its ctx, the server refusing it on a
// reconnect, the client's Close), after what is queued.
func (s *Subscription[T]) C() <-chan T { return s.sub.C() }

// All returns an iterator over the notifications, ending as C does.
func (s *Subscription[T]) All() iter.Seq[T] { return s.sub.All() }

// Close leaves the topic; the last reader to leave unsubscribes (in the
// background: the client's Close waits for it). Idempotent.
func (s *Subscription[T]) Close() {
	s.once.Do(func() {
		s.stop()
		s.hub.Close()
		s.t.leave(s)
	})
}

// Dropped returns how many notifications this reader lost to its overflow
// policy (a dropping one chosen by name with stream.WithOverflow; Block,
// the default, loses none). stream.OnDrop, passed among the options, is
// called with each of them as well.
func (s *Subscription[T]) Dropped() uint64 { return s.sub.Dropped() }

// Topic returns the topic.
func (s *Subscription[T]) Topic() string { return s.t.name }

// State returns the state of the topic's subscription now.
func (s *Subscription[T]) State() SubState { return s.t.m.State() }

// Err returns why the topic's subscription failed or ended, or nil.
func (s *Subscription[T]) Err() error {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	return s.t.err
}

// Trace returns the transitions of the topic's subscription so far, from
// the snapshot (Seq 0, Subscribing). Draw it with SubscriptionTraceMermaid.
func (s *Subscription[T]) Trace() []SubTransition {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	return append([]SubTransition(nil), s.t.trace...)
}

func (s *Subscription[T]) deliver(data json.RawMessage) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		s.t.c.report(&DecodeError{Topic: s.t.name, Target: fmt.Sprintf("%T", v), Data: clone(data), Err: err})
		return
	}
	s.hub.Publish(v)
}

func (s *Subscription[T]) finish() {
	s.stop()
	s.hub.Close()
}

// Subscribe subscribes to topic with params and returns a reader of its
// notifications as raw JSON. See SubscribeTo.
func (c *Client) Subscribe(ctx context.Context, topic string, params any, opts ...stream.SubOption) (*Subscription[json.RawMessage], error) {
	return SubscribeTo[json.RawMessage](ctx, c, topic, params, opts...)
}

// SubscribeTo subscribes to topic with params and returns a reader of its
// notifications decoded into T (encoding/json). The first reader of a
// topic and params sends the subscribe request and waits for the answer:
// the server's refusal is a *RemoteError or a *RefusedError, an answer
// with the key of another live subscription (its subscription id) a
// *KeyInUseError, and a failed request fails as Request does (ErrTimeout,
// ErrLost, ctx's error). Later readers join the live subscription. While
// the unsubscribe of an earlier subscription of the same topic and params
// is in flight (its last reader just left), the first reader waits for it
// to be answered before it subscribes, so the server sees them in order.
// After every reconnect the subscription is made again in the
// Resubscribing stage, before the tether client reports ready.
//
// ctx bounds both the subscribe request (and the waits before it) and the
// reader's whole life: the reader lives until Close, or until ctx ends,
// whichever comes first, and ctx ending later closes it as Close does
// (its channel closes; the last reader leaving unsubscribes). A ctx with
// a timeout meant for the subscribe alone ends the subscription when it
// runs out: give a ctx that lasts as long as the reader should.
func SubscribeTo[T any](ctx context.Context, c *Client, topicName string, params any, opts ...stream.SubOption) (*Subscription[T], error) {
	if c.connection() == nil {
		return nil, ErrNotBound
	}
	p, _, err := stream.JSON.Marshal(params) // a *stream.EncodeError, as the protocols give
	if err != nil {
		return nil, err
	}
	ident := topicName + "\x00" + string(p)
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		t := c.topics[ident]
		if t == nil {
			if old := c.leaving[ident]; old != nil {
				// Its unsubscribe is in flight: subscribe after it.
				c.mu.Unlock()
				select {
				case <-old.left:
					// Done leaving; its entry is normally gone already, but
					// one made as it finished may be left behind.
					c.mu.Lock()
					if c.leaving[ident] == old {
						delete(c.leaving, ident)
					}
					c.mu.Unlock()
					continue
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			t = c.newTopic(topicName, params, ident)
			s := newReader[T](ctx, t, opts)
			t.join(s)
			c.topics[ident] = t
			c.mu.Unlock()
			err := t.settle(t.subscribe(ctx, nil), 0)
			close(t.settled)
			if err != nil {
				s.finish()
				return nil, err
			}
			return s, nil
		}
		c.mu.Unlock()
		select {
		case <-t.settled:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		t.mu.Lock()
		// A topic its last reader left is on its way out, though still
		// Subscribed until its unsubscribe starts: joining it would end the
		// new reader with it.
		if st := t.m.State(); (st == Subscribed || st == Resubscribing) && !t.abandoned {
			s := newReader[T](ctx, t, opts)
			t.join(s)
			t.mu.Unlock()
			return s, nil
		}
		abandoned := t.abandoned
		t.mu.Unlock()
		// It ended or is leaving meanwhile: the loop finds it gone, a new
		// one, or (leaving) waits for its unsubscribe first, as leave
		// arranges; whichever of the two gets here first does it.
		c.mu.Lock()
		if c.topics[ident] == t {
			delete(c.topics, ident)
			if abandoned {
				c.leaving[ident] = t
			}
		}
		c.mu.Unlock()
	}
}

func newReader[T any](ctx context.Context, t *topic, opts []stream.SubOption) *Subscription[T] {
	hub := stream.NewHub[T]()
	s := &Subscription[T]{t: t, hub: hub, sub: hub.Subscribe(context.Background(), opts...)}
	s.stop = context.AfterFunc(ctx, s.Close)
	return s
}

// newTopic makes a topic's machine. c.mu is held.
func (c *Client) newTopic(name string, params any, ident string) *topic {
	m, err := subChart.New(fsm.WithClock(c.clk))
	if err != nil {
		panic(err)
	}
	t := &topic{c: c, name: name, params: params, ident: ident, m: m, settled: make(chan struct{}),
		left: make(chan struct{})}
	t.trace = append(t.trace, m.Last())
	m.AddHook(t.hook)
	return t
}

// subscribe sends the subscribe request; send, when set, writes it at once
// (the Resubscribing stage). The key is registered on the reader
// goroutine as the reply is read, so no notification that follows it is
// missed.
func (t *topic) subscribe(ctx context.Context, send func(context.Context, []byte) error) *Request {
	c := t.c
	if send != nil {
		t.mu.Lock()
		t.remaking = true
		t.mu.Unlock()
	}
	id := c.nextID.Add(1)
	payload, err := c.proto.Subscribe(id, t.name, t.params)
	return c.start(ctx, id, "subscribe:"+t.name, payload, err, send, func(result json.RawMessage) error {
		key, err := c.proto.Subscribed(t.name, result)
		if err != nil {
			return err
		}
		c.mu.Lock()
		if other := c.byKey[key]; other != nil && other != t {
			c.mu.Unlock()
			return &KeyInUseError{Topic: t.name, Key: key, HeldBy: other.name}
		}
		c.byKey[key] = t
		c.mu.Unlock()
		t.mu.Lock()
		t.key = key
		t.mu.Unlock()
		return nil
	}, nil)
}

// settle waits for a subscribe request and moves the machine: accepted,
// or refused when the server said no (and, for the first subscribe, on
// any failure). conn is the number of the connection, from 0. It returns
// the request's error.
func (t *topic) settle(r *Request, conn int) error {
	<-r.Done()
	_, err := r.Result()
	defer t.leaveIfLeft()
	if err == nil {
		t.fire(fsm.InputOf[SubEvent]{Event: SubEventAccepted, Attempt: conn})
		return nil
	}
	if t.m.State() == Subscribing || refusal(err) {
		t.fire(fsm.InputOf[SubEvent]{Event: SubEventRefused, Cause: err})
	}
	return err
}

// refusal reports whether a subscribe request's error is the server's
// answer, not a failure to get one: its error object (*RemoteError), a
// result its protocol read as a refusal (ErrRefused), or the key of
// another live subscription (ErrKeyInUse). It fails the subscription, on
// any connection; another error fails only a first subscribe, and the
// Resubscribing stage.
func refusal(err error) bool {
	_, remote := errors.AsType[*RemoteError](err)
	return remote || errors.Is(err, ErrRefused) || errors.Is(err, ErrKeyInUse)
}

// leaveIfLeft ends the Resubscribing stage's subscribe for this topic
// and, if the last reader left while it was unsettled, leaves now: with an
// unsubscribe if the server accepted it again.
func (t *topic) leaveIfLeft() {
	t.mu.Lock()
	left := t.leaveAfter
	t.remaking, t.leaveAfter = false, false
	key := t.key
	t.mu.Unlock()
	if left {
		t.unsubscribe(key)
	}
}

func (t *topic) fire(in fsm.InputOf[SubEvent]) {
	in.Transport = t.name
	_, _ = t.m.Fire(context.Background(), in)
}

// hook records every transition, and at a terminal one forgets the topic
// and ends its readers. It runs on the machine's actor.
func (t *topic) hook(tr SubTransition) (fsm.InputOf[SubEvent], bool) {
	t.mu.Lock()
	t.trace = append(t.trace, tr)
	if tr.To != Unsubscribed && tr.To != SubFailed {
		t.mu.Unlock()
		return fsm.InputOf[SubEvent]{}, false
	}
	if tr.Cause != nil {
		t.err = tr.Cause
	}
	readers, key := t.readers, t.key
	t.readers = nil
	t.mu.Unlock()
	c := t.c
	c.mu.Lock()
	if c.topics[t.ident] == t {
		delete(c.topics, t.ident)
	}
	if key != "" && c.byKey[key] == t {
		delete(c.byKey, key)
	}
	c.mu.Unlock()
	t.doneLeaving()
	for _, r := range readers {
		r.finish()
	}
	return fsm.InputOf[SubEvent]{}, false
}

// deliver hands a notification to every reader, on the reader goroutine.
func (t *topic) deliver(data json.RawMessage) {
	t.mu.Lock()
	readers := t.readers
	t.mu.Unlock()
	for _, r := range readers {
		r.deliver(data)
	}
}

// dropped moves a subscription whose connection ended to Resubscribing.
func (t *topic) dropped(cause error) {
	t.mu.Lock()
	t.key = ""
	t.mu.Unlock()
	t.fire(fsm.InputOf[SubEvent]{Event: SubEventDropped, Cause: cause})
}

// end ends the subscription (the client closed).
func (t *topic) end(cause error) {
	t.fire(fsm.InputOf[SubEvent]{Event: SubEventEnd, Cause: cause})
}

// join adds a reader, in a new backing array (see topic.readers). t.mu is
// held, or t is not yet shared.
func (t *topic) join(r reader) {
	t.readers = append(slices.Clip(t.readers), r)
}

// leave removes a reader; the last one unsubscribes.
func (t *topic) leave(r reader) {
	t.mu.Lock()
	i := slices.Index(t.readers, r)
	if i < 0 {
		t.mu.Unlock()
		return
	}
	t.readers = slices.Delete(slices.Clone(t.readers), i, i+1) // copy-on-write
	last := len(t.readers) == 0
	t.abandoned = t.abandoned || last
	key := t.key
	wait := last && t.remaking
	t.leaveAfter = wait
	t.mu.Unlock()
	if !last {
		return
	}
	c := t.c
	c.mu.Lock()
	if c.topics[t.ident] == t {
		delete(c.topics, t.ident) // a new reader makes a new subscription...
		c.leaving[t.ident] = t    // ...once this one is done leaving
	}
	c.mu.Unlock()
	if wait {
		return // the Resubscribing stage's answer decides (leaveIfLeft)
	}
	t.unsubscribe(key)
}

// unsubscribe leaves the topic once its last reader has: Unsubscribed at
// once when the server does not hold it, else through Unsubscribing and
// the unsubscribe request.
func (t *topic) unsubscribe(key string) {
	c := t.c
	c.mu.Lock()
	if key != "" && c.byKey[key] == t {
		delete(c.byKey, key)
	}
	closed := c.closed
	c.mu.Unlock()
	tr, err := t.m.Fire(context.Background(), fsm.InputOf[SubEvent]{Event: SubEventLeave, Transport: t.name})
	if err != nil || tr.To != Unsubscribing {
		t.doneLeaving() // nothing in flight (or it ended already)
		return
	}
	if closed {
		t.fire(fsm.InputOf[SubEvent]{Event: SubEventRefused, Cause: ErrClosed})
		return
	}
	c.workers.Go(func() {
		id := c.nextID.Add(1)
		payload, err := c.proto.Unsubscribe(id, t.name, key)
		r := c.start(context.Background(), id, "unsubscribe:"+t.name, payload, err, nil, nil, nil)
		<-r.Done()
		result, err := r.Result()
		if err == nil {
			err = c.proto.Unsubscribed(t.name, result)
		}
		if err != nil {
			t.fire(fsm.InputOf[SubEvent]{Event: SubEventRefused, Cause: err})
			return
		}
		t.fire(fsm.InputOf[SubEvent]{Event: SubEventAccepted})
	})
}

// doneLeaving says the subscription has nothing in flight on the server
// any more: a new subscription of its topic and params may go out.
func (t *topic) doneLeaving() {
	t.leftOnce.Do(func() {
		c := t.c
		c.mu.Lock()
		if c.leaving[t.ident] == t {
			delete(c.leaving, t.ident)
		}
		c.mu.Unlock()
		close(t.left)
	})
}
