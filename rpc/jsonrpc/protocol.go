package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/stream"
)

// Version is the "jsonrpc" member of every message.
const Version = "2.0"

// Protocol is JSON-RPC 2.0 with one subscription style. It is an
// rpc.Protocol; its zero value has no subscriptions (Subscribe fails).
type Protocol struct {
	namespace string // "eth": eth_subscribe, eth_subscription, eth_unsubscribe
	events    bool   // rpc-websockets: rpc.on, {notification}, rpc.off
}

var _ rpc.Protocol = (*Protocol)(nil)

// ErrNoSubscriptions is returned by Subscribe on a Protocol without a
// subscription style, and ErrEventParams by RPCWebSockets' Subscribe when
// params are given.
var (
	ErrNoSubscriptions = errors.New("jsonrpc: this protocol has no subscriptions (use New or RPCWebSockets)")
	ErrEventParams     = errors.New("jsonrpc: rpc-websockets events take no params")
)

// New returns JSON-RPC 2.0 with subscriptions in the namespace style:
// <namespace>_subscribe, <namespace>_subscription, <namespace>_unsubscribe.
func New(namespace string) *Protocol { return &Protocol{namespace: namespace} }

// RPCWebSockets returns JSON-RPC 2.0 as the npm rpc-websockets server
// speaks it, with its events as subscriptions (rpc.on, rpc.off, and
// {notification, params}).
func RPCWebSockets() *Protocol { return &Protocol{events: true} }

type request struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
	ID      uint64          `json:"id,omitzero"`
}

// Request encodes a request. Params that do not encode give a
// *stream.EncodeError, as tether's Client.Send returns.
func (p *Protocol) Request(id uint64, method string, params any) ([]byte, error) {
	raw, err := encodeParams(params)
	if err != nil {
		return nil, err
	}
	return json.Marshal(request{JSONRPC: Version, Method: method, Params: raw, ID: id})
}

// Notify encodes a notification (a request without id). Params that do not
// encode give a *stream.EncodeError.
func (p *Protocol) Notify(method string, params any) ([]byte, error) {
	raw, err := encodeParams(params)
	if err != nil {
		return nil, err
	}
	return json.Marshal(request{JSONRPC: Version, Method: method, Params: raw})
}

// Subscribe encodes <namespace>_subscribe [topic, params], or rpc.on
// [topic]. Params that do not encode give a *stream.EncodeError.
func (p *Protocol) Subscribe(id uint64, topic string, params any) ([]byte, error) {
	switch {
	case p.events:
		if params != nil {
			return nil, ErrEventParams
		}
		return p.Request(id, "rpc.on", []string{topic})
	case p.namespace != "":
		args := []any{topic}
		if params != nil {
			raw, err := encodeParams(params)
			if err != nil {
				return nil, err
			}
			args = append(args, raw)
		}
		return p.Request(id, p.namespace+"_subscribe", args)
	}
	return nil, ErrNoSubscriptions
}

// encodeParams encodes params with stream.JSON, nil as nothing: an
// encoding failure is a *stream.EncodeError naming params' type.
func encodeParams(params any) (json.RawMessage, error) {
	if params == nil {
		return nil, nil
	}
	raw, _, err := stream.JSON.Marshal(params)
	return raw, err
}

// Subscribed reads the subscription id (namespace style) or
// {topic: "ok"} (rpc-websockets).
func (p *Protocol) Subscribed(topic string, result json.RawMessage) (string, error) {
	if p.events {
		return topic, eventOK(topic, result)
	}
	key, ok := subscriptionID(result)
	if !ok {
		return "", &rpc.RefusedError{Topic: topic, Result: result}
	}
	return key, nil
}

// Unsubscribe encodes <namespace>_unsubscribe [key], or rpc.off [topic].
func (p *Protocol) Unsubscribe(id uint64, topic, key string) ([]byte, error) {
	switch {
	case p.events:
		return p.Request(id, "rpc.off", []string{topic})
	case p.namespace != "":
		return p.Request(id, p.namespace+"_unsubscribe", []string{key})
	}
	return nil, ErrNoSubscriptions
}

// Unsubscribed reads true (namespace style) or {topic: "ok"}.
func (p *Protocol) Unsubscribed(topic string, result json.RawMessage) error {
	if p.events {
		return eventOK(topic, result)
	}
	if bytes.Equal(bytes.TrimSpace(result), []byte("true")) {
		return nil
	}
	return &rpc.RefusedError{Topic: topic, Result: result}
}

// eventOK checks rpc-websockets' {topic: "ok"}.
func eventOK(topic string, result json.RawMessage) error {
	var answers map[string]string
	if err := json.Unmarshal(result, &answers); err != nil || answers[topic] != "ok" {
		return &rpc.RefusedError{Topic: topic, Result: result}
	}
	return nil
}

// inbound is every member Classify reads.
type inbound struct {
	JSONRPC      string          `json:"jsonrpc"`
	ID           json.RawMessage `json:"id"`
	Method       string          `json:"method"`
	Params       json.RawMessage `json:"params"`
	Result       json.RawMessage `json:"result"`
	Error        json.RawMessage `json:"error"`
	Notification *string         `json:"notification"`
}

type subscriptionParams struct {
	Subscription json.RawMessage `json:"subscription"`
	Result       json.RawMessage `json:"result"`
}

// Classify reads a reply, a notification of the protocol's style, or
// leaves the payload as Other.
func (p *Protocol) Classify(payload []byte) rpc.Inbound {
	b := bytes.TrimSpace(payload)
	if len(b) == 0 || b[0] != '{' {
		return rpc.Inbound{}
	}
	var in inbound
	if json.Unmarshal(b, &in) != nil {
		return rpc.Inbound{}
	}
	switch {
	case p.events && in.Notification != nil:
		return rpc.Inbound{Kind: rpc.Notification, Key: *in.Notification, Data: orNull(in.Params)}
	case p.namespace != "" && in.Method == p.namespace+"_subscription":
		var sp subscriptionParams
		if json.Unmarshal(in.Params, &sp) != nil {
			return rpc.Inbound{}
		}
		key, ok := subscriptionID(sp.Subscription)
		if !ok {
			return rpc.Inbound{}
		}
		return rpc.Inbound{Kind: rpc.Notification, Key: key, Data: orNull(sp.Result)}
	case in.Method != "" || in.ID == nil:
		return rpc.Inbound{} // a request from the server, or no reply
	case in.JSONRPC != Version && in.Result == nil && in.Error == nil:
		return rpc.Inbound{} // neither JSON-RPC 2.0 nor a 1.0 reply
	}
	out := rpc.Inbound{Kind: rpc.Reply, ID: replyID(in.ID)}
	// "error": null is no error (JSON-RPC 1.0 sends it beside every
	// result), and "result": null beside an error object no result (1.0's
	// error reply).
	hasError := in.Error != nil && !isNull(in.Error)
	hasResult := in.Result != nil && !(hasError && isNull(in.Result))
	switch {
	case hasResult == hasError:
		out.Malformed = errors.New(`a reply has "result" or "error", exactly one`)
	case hasError:
		var re rpc.RemoteError
		if err := json.Unmarshal(in.Error, &re); err != nil {
			out.Malformed = fmt.Errorf(`"error" is not an error object: %w`, err)
		} else {
			out.Error = &re
		}
	default:
		out.Result = in.Result
	}
	return out
}

// replyID reads an id the client could have sent: a positive integer,
// written in digits, as a number or a string ("7": some servers echo ids
// as strings). Anything else (null, 0, negative, 1.0, 1e0, too big) is 0.
func replyID(raw json.RawMessage) uint64 {
	s := string(raw)
	if u, err := strconv.Unquote(s); err == nil {
		s = u
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// subscriptionID reads a subscription id: a string, or a number written
// as it came.
func subscriptionID(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, s != ""
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func orNull(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return json.RawMessage("null")
	}
	return raw
}
