// Package peer starts and stops the real WebSocket peers the integration
// tests talk to: ws-server.mjs, a Node.js server built on the npm ws package,
// run as a subprocess.
//
// # Starting a peer
//
// [Start] runs `node peer/ws-server.mjs`, reads the "LISTEN <port>" line it
// prints first, and returns a [*Peer] serving ws:// (or wss:// with [WithTLS])
// on 127.0.0.1. [StartT] does the same for a test: it fails the test when the
// peer cannot start and stops the peer in t.Cleanup. Node must be on PATH and
// `npm ci` must have run in the integration directory; when either is
// missing, Start returns an error matching [ErrNodeMissing] or [ErrWSMissing]
// (StartT fails the test with it: CI installs both, so a missing one is a
// broken setup, not a reason to skip).
//
// [Peer.Stop] kills the process (abruptly, like a crashing server) and waits
// for it and for the goroutine that reads its output, so nothing is left
// behind for goleak. A peer started [WithPort] on a fixed port can be
// stopped and started again on the same address, for restart tests.
//
// # Behaviours and events
//
// The URL path selects what the peer does (/echo, /closeecho, /fragmented,
// /ping, /close, /big); the comment at the top of ws-server.mjs describes
// each, with their query parameters. The peer reports what it sees (a
// connection opened with its subprotocol, a message received, a ping or pong,
// the close code and reason it received, an error) as one JSON line per
// [Event] on its stdout; the query parameter id, repeated in every event of
// the connection, tells concurrent connections apart. [Peer.Wait] blocks
// until an event matching a predicate has arrived, so tests assert on events
// instead of sleeping.
//
// # Certificates
//
// [WriteCerts] generates a throw-away CA and a server certificate for
// 127.0.0.1 and localhost (ECDSA P-256) and writes them as PEM files, for
// [WithTLS] and for a client that trusts the CA through RootCAs.
package peer
