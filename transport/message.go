package transport

import "strconv"

// MessageType says what kind of message a [Message] is. The values of Text,
// Binary, Ping and Pong match the WebSocket opcodes.
type MessageType uint8

// Message types.
const (
	Text   MessageType = 0x1
	Binary MessageType = 0x2
	Ping   MessageType = 0x9
	Pong   MessageType = 0xA
)

// String returns "text", "binary", "ping" or "pong".
func (t MessageType) String() string {
	switch t {
	case Text:
		return "text"
	case Binary:
		return "binary"
	case Ping:
		return "ping"
	case Pong:
		return "pong"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// IsData reports whether t carries application data (Text or Binary).
func (t MessageType) IsData() bool { return t == Text || t == Binary }

// Message is one inbound message. Payload is borrowed when it comes from
// [Conn.Read]; see [ReadOwned].
type Message struct {
	Type    MessageType
	Payload []byte
}
