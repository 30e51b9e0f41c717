package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// outputLimit bounds, in bytes, what waits unwritten for one standard
// stream, beside the record being written. One record larger than that is
// still taken when no other waits: a consumer that keeps up loses nothing,
// however large the records (two of 5 MB in a row used to lose one).
const outputLimit = 8 << 20

// exitGrace bounds how long the program, once interrupted, still waits for
// its queued output before it exits.
const exitGrace = time.Second

// errOutputClosed is what a write returns once the program has finished
// with the stream.
var errOutputClosed = errors.New("output closed")

// output is one standard stream behind a bounded queue. Write copies p into
// the queue and returns at once; one goroutine writes the queue out, in
// order. A stream that blocks (a pipe nobody reads, a terminal on pause)
// therefore never holds up a writer: the connection's callbacks, the
// message printer and the signal handling go on. A record that does not
// fit is dropped whole and counted; records never interleave.
//
// Safe for concurrent use.
type output struct {
	w io.Writer
	// onSkip, when set, is called on the writer goroutine with the number
	// of records dropped since the last call, once the queue has drained.
	onSkip func(n uint64)
	// hide, when set, replaces the command line's secrets in every record
	// (see secrets).
	hide atomic.Pointer[strings.Replacer]

	mu      sync.Mutex
	cond    *sync.Cond // signalled when a record is queued or the stream is closed
	queue   [][]byte
	queued  int           // bytes in queue, and in the record being written
	writing int           // bytes of the record being written, 0 when none
	skipped uint64        // records dropped since the last report
	err     error         // the first write error: nothing is written after it
	closed  bool          // the program is done with the stream
	idle    chan struct{} // closed while nothing is queued or being written
	failed  chan struct{} // closed at the first write error
}

// hideSecrets makes every later record hide the secrets r replaces.
func (o *output) hideSecrets(r *strings.Replacer) { o.hide.Store(r) }

// newOutput starts the writer goroutine of w, which reports dropped
// records to onSkip (may be nil). close stops it.
func newOutput(w io.Writer, onSkip func(n uint64)) *output {
	o := &output{w: w, onSkip: onSkip, idle: make(chan struct{}), failed: make(chan struct{})}
	o.cond = sync.NewCond(&o.mu)
	close(o.idle)
	go o.run()
	return o
}

// Write queues a copy of p. It never blocks. It returns the stream's
// error once a write has failed, and drops p (counted, reported through
// onSkip) when the queue is full.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.err != nil:
		return 0, o.err
	case o.closed:
		return 0, errOutputClosed
	case len(p) == 0:
		return 0, nil
	case len(o.queue) > 0 && o.queued-o.writing+len(p) > outputLimit:
		o.skipped++
		return len(p), nil
	}
	if o.queued == 0 && closedChan(o.idle) { // nothing queued or being written: busy again
		// (idle may still be open here: the writer holds it open while it
		// hands the drop report on, which may come to this stream)
		o.idle = make(chan struct{})
	}
	n := len(p)
	if r := o.hide.Load(); r != nil {
		p = []byte(r.Replace(string(p))) // a copy
	} else {
		p = bytes.Clone(p)
	}
	o.queue = append(o.queue, p)
	o.queued += len(p)
	o.cond.Signal()
	return n, nil
}

// closedChan reports whether ch is closed.
func closedChan(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// run writes the queue out until the stream fails or is closed. A record
// counts in queued until it is written, so idle closes only then.
func (o *output) run() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		for len(o.queue) == 0 && !o.closed {
			o.cond.Wait()
		}
		if o.closed {
			return
		}
		p := o.queue[0]
		o.queue[0] = nil
		o.queue = o.queue[1:]
		o.writing = len(p)
		o.mu.Unlock()
		_, err := o.w.Write(p)
		o.mu.Lock()
		o.writing = 0
		o.queued -= len(p)
		if err != nil {
			o.err = err
			o.queue, o.queued = nil, 0
			close(o.failed)
			close(o.idle)
			return
		}
		if o.closed {
			return
		}
		if o.queued == 0 {
			// The report of what was dropped goes out (is queued on the
			// other stream) before idle says the queue drained: finish
			// waits for idle, then closes both streams, and a report
			// made after that was lost (about one run in ten).
			if n := o.skipped; n > 0 && o.onSkip != nil {
				o.skipped = 0
				o.mu.Unlock()
				o.onSkip(n)
				o.mu.Lock()
				if o.closed {
					return
				}
			}
			if o.queued == 0 { // nothing came in meanwhile
				close(o.idle)
			}
		}
	}
}

// flush waits until everything queued has been written or the stream has
// failed; once ctx has ended (an interrupt), it waits at most grace more.
func (o *output) flush(ctx context.Context, grace time.Duration) {
	ctx, cancel := withGrace(ctx, grace)
	defer cancel()
	o.mu.Lock()
	idle := o.idle
	o.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// close stops the writer goroutine, which returns at once or, when it is
// in the middle of a write, once that write returns, and discards what is
// still queued. It returns the number of records that were not written
// (dropped and not yet reported, or still queued), and whether one was
// being written: part of it may have gone out, so it is cut short.
func (o *output) close() (notWritten uint64, cut bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.skipped + uint64(len(o.queue))
	cut = o.writing > 0
	o.closed = true
	o.queue, o.skipped = nil, 0
	o.cond.Broadcast()
	return n, cut
}

// failure returns the stream's write error, or nil.
func (o *output) failure() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// withGrace returns a context that ends grace after ctx ends, and not
// before unless cancelled.
func withGrace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-gctx.Done():
		}
	})
	return gctx, func() {
		stop()
		cancel()
	}
}
