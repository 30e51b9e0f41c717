// Package jsonrpc is JSON-RPC 2.0 over WebSocket for package rpc:
// requests and replies, notifications, and subscriptions in two styles.
//
// # Requests
//
// A request is {"jsonrpc":"2.0","method":m,"params":p,"id":n}, params
// omitted when nil, n the rpc client's id (a JSON number, from 1: some
// servers, rpc-websockets among them, read an id 0 as no id at all). A
// reply with "id" n ends it: "result", or "error" {code, message, data},
// which the request returns as an *rpc.RemoteError. An "error" that is
// null counts as absent, and so does a null "result" beside an error
// object (JSON-RPC 1.0 servers send both members in every reply); a
// reply with both otherwise, or neither, is malformed
// (*rpc.MalformedReplyError). The id n is matched written in digits, as
// a number (7) or a string ("7", as some servers echo it); a reply whose
// id is null, or anything else (0, -7, 7.0, 7e0, beyond uint64), answers
// no request and is reported as an *rpc.UnknownReplyError.
//
// A reply is an object with an "id" and no "method". One without
// "jsonrpc":"2.0" (JSON-RPC 1.0, or none) is read as a reply too when it
// has a "result" or an "error" member; without either it is not a reply
// and flows on to the tether client's streams. Batches are not sent, and
// an inbound array is left to the tether client's streams, as is any
// request or notification from the server that no subscription claims.
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
