// Package client holds the end-to-end test of the tether Client against a
// real peer: ws-server.mjs, a Node.js server on the npm ws package, started
// through the peer package. It is a package of its own so that the transport
// interop tests in the parent package build and run without the root
// package.
package client
