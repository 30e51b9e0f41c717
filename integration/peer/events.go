package peer

import (
	"context"
	"encoding/json"
	"fmt"
)

// Event kinds the peer reports.
const (
	KindOpen    = "open"    // a connection was accepted; Protocol is the selected subprotocol
	KindMessage = "message" // a message arrived; Binary and Size describe it
	KindPing    = "ping"    // a ping from the client arrived; Payload is its payload
	KindPong    = "pong"    // a pong from the client arrived; Payload is its payload
	KindClose   = "close"   // the connection ended; Code and Reason are what the peer received
	KindError   = "error"   // something went wrong on the peer's side; Message says what
	KindInvalid = "invalid" // a stdout line that is not an event; Message holds it
)

// Event is one thing the peer reports about a connection. Code is the close
// code the peer received (1005 when the close frame had none, 1006 when the
// connection ended without a close frame), as the ws package reports it.
type Event struct {
	Kind     string `json:"event"`
	ID       string `json:"id"`
	Path     string `json:"path"`
	Protocol string `json:"protocol"`
	// Extensions is the open event's negotiated extensions, as ws
	// formats them ("permessage-deflate; ..."), or "".
	Extensions string `json:"extensions"`
	Binary     bool   `json:"binary"`
	Size       int    `json:"size"`
	// Wire is the message event's count of bytes the peer had read from
	// the connection's socket (after TLS) when the message was complete.
	Wire    int    `json:"wire"`
	Payload string `json:"payload"`
	Code    int    `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Is returns a predicate for Wait matching events of the connection id and
// the given kind.
func Is(id, kind string) func(Event) bool {
	return func(e Event) bool { return e.ID == id && e.Kind == kind }
}

func parseEvent(line string) Event {
	var e Event
	if err := json.Unmarshal([]byte(line), &e); err != nil || e.Kind == "" {
		return Event{Kind: KindInvalid, Message: line}
	}
	return e
}

func (p *Peer) add(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
	close(p.changed)
	p.changed = make(chan struct{})
}

// Events returns a copy of every event received so far, in order.
//
// Safe for concurrent use.
func (p *Peer) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// Wait returns the first event, in the order the peer reported them since it
// started, for which match returns true, waiting for it to arrive. It
// returns ctx's error when ctx ends first, and an error matching ErrExited
// when the peer has ended without reporting one.
//
// Safe for concurrent use.
func (p *Peer) Wait(ctx context.Context, match func(Event) bool) (Event, error) {
	seen := 0
	for {
		p.mu.Lock()
		events, changed := p.events, p.changed
		p.mu.Unlock()
		for ; seen < len(events); seen++ {
			if match(events[seen]) {
				return events[seen], nil
			}
		}
		select {
		case <-changed:
		case <-p.exited:
			p.mu.Lock()
			more := len(p.events) > seen
			p.mu.Unlock()
			if !more {
				return Event{}, fmt.Errorf("%w; stderr:\n%s", ErrExited, p.Stderr())
			}
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}
