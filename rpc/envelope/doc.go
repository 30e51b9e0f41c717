// Package envelope gives the envelope {type, data, timestamp} (package
// stream's Message, the seed's message shape) requests and subscriptions,
// for package rpc, by a convention of two more fields: "id" correlates a
// reply with its request, "topic" names a subscription.
//
//	request       {"type":"<method>","id":7,"data":<params>}
//	reply         {"type":"<any>","id":7,"data":<result>}
//	error reply   {"type":"<any>","id":7,"error":{"code":-1,"message":"...","data":...}}
//	notify        {"type":"<method>","data":<params>}
//	subscribe     {"type":"subscribe","id":8,"topic":"jobs/42","data":<params>}
//	unsubscribe   {"type":"unsubscribe","id":9,"topic":"jobs/42"}
//	notification  {"type":"<any>","topic":"jobs/42","data":<payload>}
//
// An id is a JSON number from 1. A reply is an object whose "id" is a
// positive integer, written in digits as a JSON number (7; at most the
// largest uint64): "data" is its result (null when absent, an
// acknowledgement), and "error" an error object the request returns as an
// *rpc.RemoteError; a reply with both is malformed. A subscribe reply's
// "data" is not read: the topic is the subscription's key, and any reply
// without "error" accepts it. A notification is an object with a "topic"
// and no "id" (or "id": null). A "timestamp" (RFC 3339) may be present
// anywhere and is not read. Anything else flows on to the tether client's
// streams, an object whose "id" is 0, negative, a fraction, an exponent or
// a string ("7" too) included, so a connection can carry plain envelopes
// (routed by stream.Router), with ids of their own, beside requests and
// subscriptions.
package envelope
