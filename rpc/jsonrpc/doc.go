// Package jsonrpc is JSON-RPC 2.0 over WebSocket for package rpc:
// requests and replies, notifications, and subscriptions in two styles.
//
// # Requests
//
// A request is {"jsonrpc":"2.0","method":m,"params":p,"id":n}, params
// omitted when nil, n the rpc client's id (a JSON number, from 1: some
// servers, rpc-websockets among them, read an id 0 as no id at all). A
// reply with "id" n ends it: "result", or "error" {code, message, data},
// which the request returns as an *rpc.RemoteError. A reply with both or
// neither is malformed (*rpc.MalformedReplyError). A reply whose id is
// null, or not a number the client could have sent, answers no request and
// is reported as an *rpc.UnknownReplyError. Batches are not sent, and an
// inbound array is left to the tether client's streams, as is any request
// or notification from the server that no subscription claims.
//
// # Subscriptions, namespace style (New)
//
// New("eth") subscribes as Ethereum nodes do: eth_subscribe with params
// [topic] (or [topic, params]) answers a subscription id; notifications
// are {"method":"eth_subscription","params":{"subscription":id,"result":x}}
// and deliver x; eth_unsubscribe [id] answers true. The id changes with
// every connection: the rpc client makes the subscription again and
// follows the new one.
//
// # Subscriptions, rpc-websockets style (RPCWebSockets)
//
// The npm rpc-websockets server (10.x) has events instead: rpc.on with
// params [event] answers {event: "ok"} (anything else is a refusal,
// *rpc.RefusedError: "provided event invalid", "socket has already been
// subscribed to event"); the server then sends {"notification": event,
// "params": x}, without "jsonrpc" or "id", and x is delivered as it is (an
// object when the server emitted one object, an array otherwise); rpc.off
// [event] ends it. Events take no params.
package jsonrpc
