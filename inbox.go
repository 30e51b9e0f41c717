package tether

import (
	"bytes"

	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// inbox gathers the messages the reader reads in one burst (those the
// connection had already received), so that they reach each subscriber in
// one hand-over. Only the reader goroutine touches it.
//
// Payloads are copied into one arena per burst. The first subscriber gets
// the arena itself, cut into one payload per message; every other
// subscriber gets a copy of its own. Decoded values (for a T that goes
// through the codec) are decoded once, as they are read, and go to the
// first subscriber; the others decode their own from the arena.
type inbox[T any] struct {
	codec stream.Codec
	kind  payloadKind

	arena []byte
	ends  []int                   // where each payload ends in arena
	types []transport.MessageType // each message's type, for T = transport.Message
	vals  []T                     // the values handed over; reused
	hint  int                     // the length of the last arena given away, for the next one

	// What reached no consumer, reported after the burst (see
	// Client.inboundDrops).
	dropped   uint64 // data messages read, or gathered, after Close was called
	epoch     uint64 // the session whose transport's discards were reported last
	discarded uint64 // how many of them were reported
}

// payloadKind says how a payload becomes a T.
type payloadKind uint8

const (
	viaCodec payloadKind = iota
	asBytes
	asString
	asMessage
)

func kindOf[T any]() payloadKind {
	var v T
	switch any(v).(type) {
	case []byte:
		return asBytes
	case string:
		return asString
	case transport.Message:
		return asMessage
	}
	return viaCodec
}

// len returns the number of messages gathered.
func (b *inbox[T]) len() int { return len(b.ends) }

// bytes returns the payload bytes gathered.
func (b *inbox[T]) bytes() int { return len(b.arena) }

// add copies msg's payload into the burst, with its decoded value when T
// goes through the codec.
func (b *inbox[T]) add(msg transport.Message, v T) {
	if b.arena == nil {
		b.arena = make([]byte, 0, max(b.hint, 64))
	}
	b.arena = append(b.arena, msg.Payload...)
	b.ends = append(b.ends, len(b.arena))
	switch b.kind {
	case asMessage:
		b.types = append(b.types, msg.Type)
	case viaCodec:
		b.vals = append(b.vals, v)
	}
}

// payload returns the payload of message i, in the arena.
func (b *inbox[T]) payload(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.arena[start:b.ends[i]:b.ends[i]]
}

// first returns the values of the burst for the first subscriber, which
// takes the arena: call release once the copies for the others are made.
func (b *inbox[T]) first() []T {
	switch vs := any(&b.vals).(type) {
	case *[][]byte:
		*vs = (*vs)[:0]
		for i := range b.ends {
			*vs = append(*vs, b.payload(i))
		}
	case *[]transport.Message:
		*vs = (*vs)[:0]
		for i, t := range b.types {
			*vs = append(*vs, transport.Message{Type: t, Payload: b.payload(i)})
		}
	case *[]string:
		// Strings are immutable: every subscriber can share them, and the
		// arena stays with the inbox.
		*vs = (*vs)[:0]
		all := string(b.arena)
		start := 0
		for _, end := range b.ends {
			*vs = append(*vs, all[start:end])
			start = end
		}
	}
	return b.vals
}

// another returns the values of the burst for a subscriber after the
// first: a copy of its own.
func (b *inbox[T]) another(first []T) []T {
	switch b.kind {
	case asString:
		return first // shared: strings cannot change
	case viaCodec:
		vs := make([]T, 0, len(b.ends))
		for i := range b.ends {
			if v, err := stream.Decode[T](b.codec, b.payload(i)); err == nil {
				vs = append(vs, v)
			}
		}
		return vs
	}
	arena := bytes.Clone(b.arena)
	vs := make([]T, len(b.ends))
	start := 0
	for i, end := range b.ends {
		p := arena[start:end:end]
		start = end
		switch v := any(&vs[i]).(type) {
		case *[]byte:
			*v = p
		case *transport.Message:
			*v = transport.Message{Type: b.types[i], Payload: p}
		}
	}
	return vs
}

// release gives up the arena when a subscriber was handed it (T is
// []byte or transport.Message): the next burst starts a new one.
func (b *inbox[T]) release() {
	if b.kind != asBytes && b.kind != asMessage {
		return
	}
	b.hint = len(b.arena)
	b.arena = nil
}

// reset empties the burst for the next one.
func (b *inbox[T]) reset() {
	if b.arena != nil {
		b.arena = b.arena[:0]
	}
	b.ends = b.ends[:0]
	b.types = b.types[:0]
	clear(b.vals)
	b.vals = b.vals[:0]
}
