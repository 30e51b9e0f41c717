package tether

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
)

// Stats is a snapshot of what a client has counted since New, for an
// inspector page or a metrics exporter. Counters only grow. Reading them
// costs a few atomic loads; counting them costs the client no allocation and
// no lock on the message paths.
type Stats struct {
	// MessagesIn and BytesIn count the data messages read from the
	// client's connections and their payload bytes. A burst of messages is
	// counted once the reader has handed it on, so a message may show up a
	// moment after it was read.
	MessagesIn, BytesIn uint64
	// MessagesOut and BytesOut count the messages Send accepted (it
	// returned nil) and their payload bytes: written at once or queued.
	MessagesOut, BytesOut uint64
	// DropsBufferFull, DropsTooLarge and DropsClosed count the outbound
	// messages reported dropped (OnDrop, *DropError) because the outbound
	// buffer was full, the message was too large to queue, or the client
	// closed with it queued.
	DropsBufferFull, DropsTooLarge, DropsClosed uint64
	// PossiblyLost counts the outbound messages written to a connection
	// that failed before the peer confirmed them (ErrPossiblyLost).
	PossiblyLost uint64
	// SubscriberDrops counts the values that subscribers with a dropping
	// overflow policy lost (*SubscriberDropError), on all three streams.
	SubscriberDrops uint64
	// InboundDrops counts the inbound data messages that reached no
	// consumer (*InboundDropError): read after Close was called, or thrown
	// away unread by the transport during a close handshake.
	InboundDrops uint64
	// Reconnects counts the reconnect attempts started: the retry
	// transitions.
	Reconnects uint64
	// RTT is the latest heartbeat round trip, 0 before the first, and
	// RTTSamples how many round trips were measured.
	RTT        time.Duration
	RTTSamples uint64
	// State is the lifecycle state this snapshot belongs to, read
	// together with NextRetry, NextRetryAt and Ahead: when it is Waiting
	// and the policy scheduled a retry, they are set. The client records a
	// transition, with the reconnect decision when it enters Waiting,
	// before the transitions stream, a Watcher, Trace or Err hear of it, so
	// whoever hears of Waiting finds the retry here. Client.State may be a
	// moment ahead: the machine moves first.
	State fsm.State
	// NextRetry is the reconnect the policy scheduled, while the client is
	// Waiting for it, and NextRetryAt when it is due (on the client's
	// clock). Both are zero in every other state, and while Waiting when
	// the policy scheduled nothing: it gave up (the client is about to
	// close), or Reconnect dials at once.
	NextRetry   Retry
	NextRetryAt time.Time
	// Ahead is the reconnect schedule after NextRetry: the next attempts
	// (up to five) with the interval each delay will be drawn from, should
	// they fail too, and the reason the policy would give up after them,
	// if it would (policy.PreviewOf says what it assumes). It is honest
	// about jitter: a random delay shows as its interval, not as a value.
	// It is empty when NextRetry is, and when the policy cannot preview (a
	// Reconnect of your own that is no policy.Previewer). Reading it
	// copies the steps.
	Ahead policy.Preview
}

// Drops returns every outbound message reported dropped or possibly lost,
// every value a dropping subscriber lost, and every inbound message that
// reached no consumer.
func (s Stats) Drops() uint64 {
	return s.DropsBufferFull + s.DropsTooLarge + s.DropsClosed + s.PossiblyLost + s.SubscriberDrops + s.InboundDrops
}

// Watcher receives the client's rare events as they happen, for a metrics
// exporter that records each one (a histogram of round trips, say). Each
// function may be nil. They run on the client's goroutines and must return
// quickly without blocking and without calling back into the client.
type Watcher struct {
	// RTT is called with every heartbeat round trip, on the goroutine
	// that read the answer.
	RTT func(time.Duration)
	// Retry is called every time the reconnect policy schedules an attempt,
	// on the machine's actor.
	Retry func(Retry)
	// Transition is called with every transition, on the machine's actor,
	// once Stats hold it; the transitions stream's subscribers may see it
	// at the same moment.
	Transition func(fsm.Transition)
}

// Stats returns what the client has counted so far.
func (c *Client[T]) Stats() Stats {
	s := &c.stats
	st := Stats{
		MessagesIn:      s.msgsIn.Load(),
		BytesIn:         s.bytesIn.Load(),
		MessagesOut:     s.msgsOut.Load(),
		BytesOut:        s.bytesOut.Load(),
		DropsBufferFull: s.dropFull.Load(),
		DropsTooLarge:   s.dropLarge.Load(),
		DropsClosed:     s.dropClosed.Load(),
		PossiblyLost:    s.lost.Load(),
		SubscriberDrops: s.subDrops.Load(),
		InboundDrops:    s.inDrops.Load(),
		Reconnects:      s.retries.Load(),
		RTT:             c.hb.RTT(),
		RTTSamples:      s.rtts.Load(),
	}
	s.mu.Lock()
	st.State, st.NextRetry, st.NextRetryAt = s.state, s.next, s.nextAt
	st.Ahead = policy.Preview{Steps: slices.Clone(s.ahead.Steps), Stop: s.ahead.Stop}
	s.mu.Unlock()
	return st
}

// Watch registers w until the returned function is called (it is
// idempotent). A client with no watcher pays one atomic load per round trip
// and per reconnect decision.
func (c *Client[T]) Watch(w Watcher) (stop func()) {
	s := &c.stats
	p := &w
	s.mu.Lock()
	s.setWatchers(append(s.watcherList(), p))
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			var keep []*Watcher
			for _, x := range s.watcherList() {
				if x != p {
					keep = append(keep, x)
				}
			}
			s.setWatchers(keep)
		})
	}
}

// clientStats holds the counters behind Stats. The reader's counts are kept
// in plain fields while a burst is read and published with one atomic add
// per burst; the groups written by different goroutines sit on separate
// cache lines.
type clientStats struct {
	// The reader's own: one reader at a time, the next starts after the
	// previous ended.
	burstMsgs, burstBytes uint64
	msgsIn, bytesIn       atomic.Uint64
	_                     [64]byte

	msgsOut, bytesOut atomic.Uint64 // Send, any goroutine
	_                 [64]byte

	dropFull, dropLarge, dropClosed, lost, subDrops, inDrops atomic.Uint64
	retries, rtts                                            atomic.Uint64
	opens                                                    atomic.Uint64 // Open transitions, for Connect
	watchers                                                 atomic.Pointer[[]*Watcher]

	mu     sync.Mutex // guards the fields below and changes to watchers
	state  fsm.State
	next   Retry
	nextAt time.Time
	ahead  policy.Preview
}

func (s *clientStats) watcherList() []*Watcher {
	if p := s.watchers.Load(); p != nil {
		return *p
	}
	return nil
}

// setWatchers replaces the list (copy on write); s.mu is held.
func (s *clientStats) setWatchers(ws []*Watcher) {
	if len(ws) == 0 {
		s.watchers.Store(nil)
		return
	}
	s.watchers.Store(&ws)
}

// read counts one data message; the reader goroutine only.
func (s *clientStats) read(size int) {
	s.burstMsgs++
	s.burstBytes += uint64(size)
}

// publishIn makes the reader's counts visible; the reader goroutine only,
// once per burst.
func (s *clientStats) publishIn() {
	if s.burstMsgs == 0 {
		return
	}
	s.msgsIn.Add(s.burstMsgs)
	s.bytesIn.Add(s.burstBytes)
	s.burstMsgs, s.burstBytes = 0, 0
}

// sent counts a message Send accepted.
func (s *clientStats) sent(size int) {
	s.msgsOut.Add(1)
	s.bytesOut.Add(uint64(size))
}

// dropped counts an outbound drop by its reason.
func (s *clientStats) dropped(d Drop) {
	switch {
	case errors.Is(d.Reason, adapters.ErrPossiblyLost):
		s.lost.Add(1)
	case errors.Is(d.Reason, adapters.ErrBufferFull):
		s.dropFull.Add(1)
	case errors.Is(d.Reason, adapters.ErrTooLargeToQueue):
		s.dropLarge.Add(1)
	default:
		s.dropClosed.Add(1)
	}
}

// rttHook returns the heartbeat's round-trip hook: it counts the sample,
// tells the watchers and calls user (OnRTT), when set.
func (s *clientStats) rttHook(user func(time.Duration)) func(time.Duration) {
	return func(d time.Duration) {
		s.rtts.Add(1)
		for _, w := range s.watcherList() {
			if w.RTT != nil {
				w.RTT(d)
			}
		}
		if user != nil {
			user(d)
		}
	}
}

// entered records tr, with the reconnect decision d when tr enters
// Waiting (ok when the policy was asked), in one step: State and the
// scheduled retry change together. The client calls it on the actor
// before anyone hears of tr.
func (s *clientStats) entered(tr fsm.Transition, d adapters.Decision, ok bool) {
	if tr.Event == fsm.EventRetry {
		s.retries.Add(1)
	}
	if tr.To == fsm.Open {
		s.opens.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = tr.To
	s.next, s.nextAt, s.ahead = Retry{}, time.Time{}, policy.Preview{}
	if tr.To == fsm.Waiting && ok {
		s.schedule(nil, d)
	}
}

// schedule records the retry d schedules, if it schedules one; s.mu is
// held.
func (s *clientStats) schedule(clk clock.Clock, d adapters.Decision) {
	if d.Decision.Stop {
		return
	}
	s.next = retryOf(d)
	s.nextAt, s.ahead = d.Due, d.Ahead
	if s.nextAt.IsZero() {
		s.nextAt = clock.OrReal(clk).Now().Add(d.Decision.Delay)
	}
}

func retryOf(d adapters.Decision) Retry {
	return Retry{Attempt: d.Context.Attempt, Delay: d.Decision.Delay, Cause: d.Context.Err}
}

// transition is a machine hook: it tells the watchers.
func (s *clientStats) transition(tr fsm.Transition) (fsm.Input, bool) {
	for _, w := range s.watcherList() {
		if w.Transition != nil {
			w.Transition(tr)
		}
	}
	return fsm.Input{}, false
}

// decided tells the watchers of a reconnect the policy scheduled; on the
// actor, from the reconnect adapter's hook. The client recorded it already
// (entered); it is recorded again, the same, in case it was not.
func (s *clientStats) decided(clk clock.Clock, d adapters.Decision) {
	if d.Decision.Stop {
		return
	}
	s.mu.Lock()
	if s.state == fsm.Waiting {
		s.schedule(clk, d)
	}
	s.mu.Unlock()
	r := retryOf(d)
	for _, w := range s.watcherList() {
		if w.Retry != nil {
			w.Retry(r)
		}
	}
}
