package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/stream"
)

// The "type" of the subscribe and unsubscribe requests.
const (
	TypeSubscribe   = "subscribe"
	TypeUnsubscribe = "unsubscribe"
)

// Protocol is the envelope convention. It is an rpc.Protocol; the zero
// value is ready to use.
type Protocol struct{}

var _ rpc.Protocol = Protocol{}

// New returns the envelope convention.
func New() Protocol { return Protocol{} }

type outbound struct {
	Type  string          `json:"type"`
	ID    uint64          `json:"id,omitzero"`
	Topic string          `json:"topic,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Request encodes {"type":method,"id":id,"data":params}. Params that do
// not encode give a *stream.EncodeError, as tether's Client.Send returns.
func (Protocol) Request(id uint64, method string, params any) ([]byte, error) {
	return encode(outbound{Type: method, ID: id}, params)
}

// Notify encodes {"type":method,"data":params}. Params that do not encode
// give a *stream.EncodeError.
func (Protocol) Notify(method string, params any) ([]byte, error) {
	return encode(outbound{Type: method}, params)
}

// Subscribe encodes {"type":"subscribe","id":id,"topic":topic,"data":params}.
// Params that do not encode give a *stream.EncodeError.
func (Protocol) Subscribe(id uint64, topic string, params any) ([]byte, error) {
	return encode(outbound{Type: TypeSubscribe, ID: id, Topic: topic}, params)
}

// encode encodes out with params as its "data" (none when nil), params
// with stream.JSON: an encoding failure is a *stream.EncodeError naming
// params' type.
func encode(out outbound, params any) ([]byte, error) {
	if params != nil {
		raw, _, err := stream.JSON.Marshal(params)
		if err != nil {
			return nil, err
		}
		out.Data = raw
	}
	return json.Marshal(out)
}

// Subscribed accepts any reply: the key is the topic.
func (Protocol) Subscribed(topic string, _ json.RawMessage) (string, error) { return topic, nil }

// Unsubscribe encodes {"type":"unsubscribe","id":id,"topic":topic}.
func (Protocol) Unsubscribe(id uint64, topic, _ string) ([]byte, error) {
	return json.Marshal(outbound{Type: TypeUnsubscribe, ID: id, Topic: topic})
}

// Unsubscribed accepts any reply.
func (Protocol) Unsubscribed(string, json.RawMessage) error { return nil }

type inbound struct {
	ID    json.RawMessage  `json:"id"`
	Topic *string          `json:"topic"`
	Data  json.RawMessage  `json:"data"`
	Error *json.RawMessage `json:"error"`
}

// Classify reads a reply (an "id" that is a positive integer), a
// notification (a "topic" and no "id", or a null one), or leaves the
// payload as Other: anything else, an object with any other "id" (0,
// negative, a string, a fraction) included.
func (Protocol) Classify(payload []byte) rpc.Inbound {
	b := bytes.TrimSpace(payload)
	if len(b) == 0 || b[0] != '{' {
		return rpc.Inbound{}
	}
	var in inbound
	if json.Unmarshal(b, &in) != nil {
		return rpc.Inbound{}
	}
	noID := in.ID == nil || string(in.ID) == "null"
	id, isReply := replyID(in.ID)
	switch {
	case isReply:
		out := rpc.Inbound{Kind: rpc.Reply, ID: id}
		switch {
		case in.Error != nil && in.Data != nil:
			out.Malformed = errors.New(`a reply has "data" or "error", not both`)
		case in.Error != nil:
			var re rpc.RemoteError
			if err := json.Unmarshal(*in.Error, &re); err != nil {
				out.Malformed = fmt.Errorf(`"error" is not an error object: %w`, err)
			} else {
				out.Error = &re
			}
		case in.Data == nil:
			out.Result = json.RawMessage("null")
		default:
			out.Result = in.Data
		}
		return out
	case in.Topic != nil && noID:
		data := in.Data
		if data == nil {
			data = json.RawMessage("null")
		}
		return rpc.Inbound{Kind: rpc.Notification, Key: *in.Topic, Data: data}
	}
	return rpc.Inbound{}
}

// replyID reads an id the client could have sent: a JSON number written as
// a positive integer in digits (7), at most the largest uint64. Anything
// else (0, -7, 7.0, 7e0, "7", too big) is no reply's id.
func replyID(raw json.RawMessage) (uint64, bool) {
	n, err := strconv.ParseUint(string(raw), 10, 64)
	return n, err == nil && n > 0
}
