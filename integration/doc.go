// Package integration holds tether's interop tests against real peers we did
// not write. Its tests dial ws-server.mjs, a Node.js server on the npm ws
// package (started through the peer package), with the WebSocket transport
// and check, frame by frame, that both sides agree: echo at the length-field
// boundaries, fragmented messages, pings and pongs both ways, close codes and
// reasons both ways, subprotocol negotiation, the 1009 size limit and wss with
// a private CA. The end-to-end test of the tether Client is in the client
// subdirectory.
//
// # Running
//
//	cd integration && npm ci && go test -race ./...
//
// Node.js 20+ must be on PATH and `npm ci` must have installed the ws package;
// without them the tests fail (they do not skip): CI installs both.
package integration
