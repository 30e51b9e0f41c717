// Package rpc is requests and subscriptions over a tether client, each a
// small state machine of its own, in any wire format a Protocol describes:
// JSON-RPC 2.0 (package rpc/jsonrpc) and the {type, data, timestamp}
// envelope with an id and a topic (package rpc/envelope) are shipped.
//
// # Setting up
//
// An rpc Client is built first, its Options go to tether.New, and the
// tether client is bound to it:
//
//	rc := rpc.New(jsonrpc.RPCWebSockets())
//	tc, err := tether.New[json.RawMessage](url, rc.Options()...)
//	...
//	rc.Bind(tc)
//	defer rc.Close()
//	defer tc.Close(ctx)
//
// The options add a tether.WithIntercept, which claims replies and the
// notifications of live subscriptions on the reader goroutine (everything
// else flows on to the tether client's streams, untouched), and the
// lifecycle stage Resubscribing (ResubscribeStage), in which every live
// subscription is made again on each new connection before it reports
// ready (Open), and tether.WithHold(0): a message rpc does not claim,
// arriving while nothing reads the tether client's Messages, is not held
// for a first consumer (which would stop the reader, requests included,
// once 256 were held) but only updates Latest. Options apply in order, so
// a tether.WithHold after rc.Options()... wins:
//
//	tc, err := tether.New[json.RawMessage](url, append(rc.Options(), tether.WithHold(64))...)
//
// # Requests
//
// Client.Request sends a request and waits for its reply; Call decodes the
// result into a type; Client.Go returns the request in flight. Each
// request has an id, the client's next from 1, and ends with the reply
// carrying that id, or with its timeout (WithTimeout, Timeout; default
// DefaultTimeout, from the call, through any wait in the send buffer, or
// for room in it when it is full, and any retry), or when its ctx ends, or when the connection it was written
// on ends first, or its write fails mid-way: ErrLost, reported and never
// silent, unless the request is marked Idempotent, and then it is sent
// again on the next connection. A request the tether client refuses before
// writing any of it ends Unsent, with the refusal.
// A request made while disconnected waits in the tether client's send
// buffer and is written after the next Open. A reply to no pending request
// goes to the error stream (Errors) as an *UnknownReplyError.
//
// Each request runs a machine (RequestDef): Pending, then Replied,
// Malformed, TimedOut, Lost, Cancelled or Unsent, with a retry edge from
// Pending to itself. Request.Trace returns its transitions and
// RequestTraceMermaid draws them.
//
// # Subscriptions
//
// Client.Subscribe (raw JSON) and SubscribeTo (decoded into a type) return
// a reader of one topic's notifications, a channel or an iterator; their
// ctx bounds both the subscribe request and the reader's life (when it
// ends, the reader closes). Each
// topic runs a machine (SubscriptionDef): Subscribing, Subscribed,
// Resubscribing after a connection ends and until the next one makes it
// again, Unsubscribing when the last reader leaves, and Unsubscribed or
// Failed. See docs/framework.md.
package rpc
