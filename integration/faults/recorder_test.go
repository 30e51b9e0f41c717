package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
)

// recorder keeps what the client reported: transitions and errors from its
// streams, round-trip times and retries from its callbacks, and the
// server's messages as they arrived (OnMessage, on the reader goroutine,
// so none is lost to a subscriber queue). Its methods are safe for
// concurrent use.
type recorder struct {
	bell *bell

	mu      sync.Mutex
	trs     []fsm.Transition
	errs    []error    // every error but the drop reports, which drops keeps compactly
	drops   []dropKind // indexed by message ID: how its *tether.DropError report said it went
	reports int        // drop reports received (a message reported twice counts twice)
	rtts    []rttSample
	retries []tether.Retry

	// Server-to-client messages.
	received    int
	badPad      int
	next        map[int]int // connection -> Seq of the last message received on it
	gaps        []string    // a message that did not follow the previous one of its connection
	heard       []int       // connections heard from, in order
	interleaved int         // messages from a connection older than one already heard
}

// dropKind is the reason of a drop report, kept in one byte so that a soak
// of many thousand messages does not weigh on the heap it measures.
type dropKind uint8

const (
	notReported dropKind = iota
	possiblyLost
	bufferFull
	closedQueued
	otherReason
)

func kindOf(reason error) dropKind {
	switch {
	case errors.Is(reason, tether.ErrPossiblyLost):
		return possiblyLost
	case errors.Is(reason, tether.ErrBufferFull):
		return bufferFull
	case errors.Is(reason, tether.ErrClosed):
		return closedQueued
	}
	return otherReason
}

type rttSample struct {
	at  time.Time
	rtt time.Duration
}

func newRecorder(b *bell) *recorder {
	return &recorder{bell: b, next: make(map[int]int)}
}

func (r *recorder) transition(tr fsm.Transition) {
	r.mu.Lock()
	r.trs = append(r.trs, tr)
	r.mu.Unlock()
	r.bell.ring()
}

func (r *recorder) err(err error) {
	r.mu.Lock()
	if d, ok := errors.AsType[*tether.DropError](err); ok {
		r.markReported(d.ID, kindOf(d.Reason))
	} else if pl, ok := errors.AsType[*tether.PossiblyLostError](err); ok {
		for _, id := range pl.IDs {
			r.markReported(id, possiblyLost)
		}
	} else {
		r.errs = append(r.errs, err)
	}
	r.mu.Unlock()
	r.bell.ring()
}

// markReported records a report about message id. r.mu is held.
func (r *recorder) markReported(id uint64, kind dropKind) {
	for uint64(len(r.drops)) <= id {
		r.drops = append(r.drops, notReported)
	}
	if r.drops[id] == notReported {
		r.drops[id] = kind
	}
	r.reports++
}

func (r *recorder) rtt(d time.Duration) {
	r.mu.Lock()
	r.rtts = append(r.rtts, rttSample{at: time.Now(), rtt: d})
	r.mu.Unlock()
	r.bell.ring()
}

func (r *recorder) retry(x tether.Retry) {
	r.mu.Lock()
	r.retries = append(r.retries, x)
	r.mu.Unlock()
	r.bell.ring()
}

func (r *recorder) message(w wire) {
	r.mu.Lock()
	r.received++
	if !w.intact() {
		r.badPad++
	}
	switch {
	case w.Conn > r.lastConn():
		r.heard = append(r.heard, w.Conn)
	case w.Conn < r.lastConn():
		r.interleaved++
	}
	if w.Seq != r.next[w.Conn]+1 {
		r.gaps = append(r.gaps, fmt.Sprintf("connection %d: message %d after %d", w.Conn, w.Seq, r.next[w.Conn]))
	}
	r.next[w.Conn] = w.Seq
	r.mu.Unlock()
	r.bell.ring()
}

// lastConn is the newest connection heard from. r.mu is held.
func (r *recorder) lastConn() int {
	if len(r.heard) == 0 {
		return 0
	}
	return r.heard[len(r.heard)-1]
}

// lastSeq returns the Seq of the latest transition recorded.
func (r *recorder) lastSeq() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.trs) == 0 {
		return 0
	}
	return r.trs[len(r.trs)-1].Seq
}

// waitTransition returns the first transition after Seq after for which
// match is true, waiting for it.
func (r *recorder) waitTransition(ctx context.Context, after uint64, match func(fsm.Transition) bool) (fsm.Transition, error) {
	var found fsm.Transition
	err := r.bell.until(ctx, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, tr := range r.trs {
			if tr.Seq > after && match(tr) {
				found = tr
				return true
			}
		}
		return false
	})
	return found, err
}

// transitionsAfter returns the transitions after Seq after.
func (r *recorder) transitionsAfter(after uint64) []fsm.Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []fsm.Transition
	for _, tr := range r.trs {
		if tr.Seq > after {
			out = append(out, tr)
		}
	}
	return out
}

// events names the events of trs, separated by spaces.
func events(trs []fsm.Transition) string {
	names := make([]string, len(trs))
	for i, tr := range trs {
		names[i] = tr.Event.String()
	}
	return strings.Join(names, " ")
}

// count returns how many of trs have event e.
func count(trs []fsm.Transition, e fsm.Event) int {
	n := 0
	for _, tr := range trs {
		if tr.Event == e {
			n++
		}
	}
	return n
}

// rttsSince returns the round trips measured since t.
func (r *recorder) rttsSince(t time.Time) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for _, s := range r.rtts {
		if !s.at.Before(t) {
			out = append(out, s.rtt)
		}
	}
	return out
}

// retriesSince returns the retries scheduled after the first n.
func (r *recorder) retriesSince(n int) []tether.Retry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]tether.Retry(nil), r.retries[min(n, len(r.retries)):]...)
}

// numRetries returns how many retries were scheduled.
func (r *recorder) numRetries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.retries)
}

// heardFrom returns how many server messages arrived, and on how many
// connections.
func (r *recorder) heardFrom() (messages, conns int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.received, len(r.heard)
}

// reported reports whether message id was reported dropped or possibly
// lost.
func (r *recorder) reported(id uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return id < uint64(len(r.drops)) && r.drops[id] != notReported
}

// dropKinds counts the reports by reason.
func (r *recorder) dropKinds() map[dropKind]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[dropKind]int)
	for _, k := range r.drops {
		if k != notReported {
			out[k]++
		}
	}
	return out
}
