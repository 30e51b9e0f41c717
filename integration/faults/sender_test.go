package faults

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
)

// sender sends the client's sequence-numbered messages, from one loop on a
// ticker and from bursts the test asks for. Sends are serialised, so Seq
// order is Send order. Its methods are safe for concurrent use.
type sender struct {
	c     *tether.Client[wire]
	bell  *bell
	every time.Duration
	pad   int

	sendMu sync.Mutex // held across choosing a Seq and Send

	mu   sync.Mutex
	recs []sendRec // recs[i] is the message of Seq i+1

	started  atomic.Bool
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// sendRec is what one Send did.
type sendRec struct {
	id  uint64
	err error // what Send returned
	// disconnected: the client's state was not Open just before Send
	// (the message was meant for the outbound buffer).
	disconnected bool
}

func newSender(c *tether.Client[wire], b *bell, every time.Duration, pad int) *sender {
	return &sender{c: c, bell: b, every: every, pad: pad, stop: make(chan struct{}), done: make(chan struct{})}
}

// send sends one message with a pad of n bytes and returns Send's error.
func (s *sender) send(ctx context.Context, n int) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	seq := len(s.recs) + 1
	s.mu.Unlock()
	disconnected := s.c.State() != fsm.Open
	id, err := s.c.SendID(ctx, wire{Seq: seq, Pad: pattern(seq, n)})
	s.mu.Lock()
	s.recs = append(s.recs, sendRec{id: id, err: err, disconnected: disconnected})
	s.mu.Unlock()
	s.bell.ring()
	return err
}

// run starts the loop: one message every s.every until halt, ctx's end or
// the client's close.
func (s *sender) run(ctx context.Context) {
	s.started.Store(true)
	go func() {
		defer close(s.done)
		tick := time.NewTicker(s.every)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if err := s.send(ctx, s.pad); errors.Is(err, tether.ErrClosed) || ctx.Err() != nil {
				return
			}
		}
	}()
}

// halt stops the loop, if it runs, and waits for it. Idempotent.
func (s *sender) halt() {
	if !s.started.Load() {
		return
	}
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
}

// records returns a copy of every send so far.
func (s *sender) records() []sendRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sendRec(nil), s.recs...)
}

// sent returns how many messages were sent so far.
func (s *sender) sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}
