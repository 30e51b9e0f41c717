package adapters

import "unsafe"

// PayloadValue returns a value for [Outbox.Send] that stands for payload
// itself: drop reports carry it as a []byte, or as a string when text is
// true. Unlike passing payload as an any, it costs no allocation: the
// value holds only a pointer to payload's first byte (an interface holds
// a pointer-shaped value without boxing it), and the size that every
// report and record entry carries anyway gives back its length.
//
// The report's []byte shares payload's memory, as a []byte passed to Send
// as an any would, except for a message that waited in the buffer: its
// report shows the buffer's copy. A text report is a copy.
func PayloadValue(payload []byte, text bool) any {
	p := unsafe.SliceData(payload)
	if text {
		return textRef{p}
	}
	return bytesRef{p}
}

// bytesRef and textRef are the values PayloadValue returns: pointer-shaped,
// so boxing them allocates nothing.
type (
	bytesRef struct{ p *byte }
	textRef  struct{ p *byte }
)

// ownPayload returns v, or, when v is a PayloadValue, one that stands for
// payload instead: the copy of a queued message, which its reports then
// show even after the caller reused its own slice.
func ownPayload(v any, payload []byte) any {
	switch v.(type) {
	case bytesRef:
		return PayloadValue(payload, false)
	case textRef:
		return PayloadValue(payload, true)
	}
	return v
}

// userValue turns a PayloadValue back into the payload it stands for, of
// size bytes; any other value is returned as it is.
func userValue(v any, size int) any {
	switch r := v.(type) {
	case bytesRef:
		if r.p == nil {
			return []byte{}
		}
		return unsafe.Slice(r.p, size)
	case textRef:
		if r.p == nil {
			return ""
		}
		return string(unsafe.Slice(r.p, size))
	}
	return v
}
