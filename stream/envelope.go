package stream

import (
	"encoding/json"
	"time"
)

// Message is a typed message in the envelope shape {type, data, timestamp}
// that lets one connection carry several kinds of message. Type selects
// the route; Data is the payload of that kind; Timestamp is when the
// sender made it (omitted from the JSON when zero; RFC 3339 otherwise).
type Message[T any] struct {
	Type      string    `json:"type"`
	Data      T         `json:"data"`
	Timestamp time.Time `json:"timestamp,omitzero"`
}

// Envelope is a message whose data is not decoded yet: what the Client
// decodes from each inbound payload before [Router.Dispatch] decodes Data
// into the type registered for Type. Data is a copy, never a borrowed
// buffer.
type Envelope = Message[json.RawMessage]

// DecodeEnvelope decodes payload into an Envelope with c (nil means
// [JSON]). A payload without a "type" is decoded with Type "". Every error
// is a [*DecodeError]; payload may be a borrowed buffer.
func DecodeEnvelope(c Codec, payload []byte) (Envelope, error) {
	return Decode[Envelope](c, payload)
}
