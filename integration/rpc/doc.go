// Package rpc tests tether's rpc client (JSON-RPC 2.0, rpc/jsonrpc)
// against a real JSON-RPC server nobody here wrote: the npm rpc-websockets
// server (10.0.1), run by peer/rpc-server.mjs as a subprocess. Requests,
// errors, events as subscriptions, and a server killed and started again
// in the middle.
package rpc
