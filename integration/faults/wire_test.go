package faults

import (
	"context"
	"strings"
	"sync"
)

// wire is the message both sides send, as JSON text. Seq numbers the
// client's messages from 1 for the whole test, and the server's from 1 for
// each connection, which Conn numbers (server side, from 1). Pad is
// pattern(Seq, n): the receiver checks it, so a message cut or spliced by a
// fault is caught.
type wire struct {
	Conn int    `json:"c,omitempty"`
	Seq  int    `json:"s"`
	Pad  string `json:"p,omitempty"`
}

// pattern returns n printable bytes that depend on seq.
func pattern(seq, n int) string {
	var b strings.Builder
	b.Grow(n)
	for i := range n {
		b.WriteByte(byte('a' + (seq+i)%26))
	}
	return b.String()
}

// intact reports whether w carries the pad its sequence number implies.
func (w wire) intact() bool {
	if len(w.Pad) == 0 {
		return true
	}
	return w.Pad == pattern(w.Seq, len(w.Pad))
}

// bell wakes waiters whenever something they watch changed. The server and
// the client's recorder ring the same bell, so a wait can watch both.
type bell struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBell() *bell { return &bell{ch: make(chan struct{})} }

// ring wakes every waiter. Any goroutine.
func (b *bell) ring() {
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}

// until evaluates cond after every ring until it reports true, and returns
// nil then, or ctx's error when ctx ends first. cond must take its own
// locks.
func (b *bell) until(ctx context.Context, cond func() bool) error {
	for {
		b.mu.Lock()
		ch := b.ch // taken before cond runs: no ring can be missed
		b.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
