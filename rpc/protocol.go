package rpc

import "encoding/json"

// Protocol is the wire format of one request/subscription protocol: how a
// request, a notification and a subscription are written, and what an
// inbound payload is. The client owns correlation ids, reply matching,
// timeouts and the machines; a Protocol only encodes and classifies. Its
// methods are called from many goroutines at once (Classify on the
// connection's reader) and must be safe for that, quick, and free of side
// effects. Params that do not encode should give a *stream.EncodeError (the
// shipped protocols do, as tether's Client.Send does): the client returns
// the error as it is, and the request ends Unsent. Package rpc/jsonrpc is JSON-RPC 2.0; package rpc/envelope is the
// {type, data, timestamp} envelope with an id and a topic field.
type Protocol interface {
	// Request encodes a request whose reply will carry id.
	Request(id uint64, method string, params any) ([]byte, error)
	// Notify encodes a message that expects no reply.
	Notify(method string, params any) ([]byte, error)
	// Subscribe encodes the request, with id, that subscribes to topic.
	Subscribe(id uint64, topic string, params any) ([]byte, error)
	// Subscribed reads the result of a subscribe request's reply: the key
	// the subscription's notifications will carry (a server's
	// subscription id, or the topic), or why the server refused.
	Subscribed(topic string, result json.RawMessage) (key string, err error)
	// Unsubscribe encodes the request, with id, that ends the subscription
	// to topic whose notifications carry key.
	Unsubscribe(id uint64, topic, key string) ([]byte, error)
	// Unsubscribed reads the result of an unsubscribe request's reply: nil,
	// or why the server did not end the subscription.
	Unsubscribed(topic string, result json.RawMessage) error
	// Classify says what an inbound payload is. The payload is borrowed:
	// what Inbound holds must be copies. A payload of no concern to the
	// protocol is Other, and flows on to the client's own streams.
	Classify(payload []byte) Inbound
}

// Kind is what an inbound payload is to a protocol.
type Kind uint8

const (
	// Other is a payload the protocol does not claim: it flows on to the
	// tether client's streams, untouched.
	Other Kind = iota
	// Reply answers a request, by its id.
	Reply
	// Notification is a message for a subscription, by its key.
	Notification
)

// String returns "other", "reply" or "notification".
func (k Kind) String() string {
	switch k {
	case Reply:
		return "reply"
	case Notification:
		return "notification"
	}
	return "other"
}

// Inbound is an inbound payload as a [Protocol] classified it.
type Inbound struct {
	Kind Kind
	// ID is the id a Reply answers; 0 when the reply carries none (a
	// server's answer to a request it could not read, say).
	ID uint64
	// Result is a Reply's result, when it has one.
	Result json.RawMessage
	// Error is a Reply's error object, when it has one.
	Error *RemoteError
	// Malformed, when set, says why a Reply whose id could be read cannot
	// be used (both a result and an error, or neither): the request fails
	// with a *MalformedReplyError that wraps it.
	Malformed error
	// Key is a Notification's subscription key (see Protocol.Subscribed).
	Key string
	// Data is a Notification's payload.
	Data json.RawMessage
}
