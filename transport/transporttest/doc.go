// Package transporttest checks a [transport.Transport] and the
// [transport.Conn] it dials against the contract of package transport, the
// way testing/fstest checks a file system. A transport's own tests call
// [Run] with a [Harness]: the transport, a server it dials, a [Peer] that
// drives the server's end of each connection, a dial that hangs, and the
// [Capabilities] of the transport.
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, func(t *testing.T) transporttest.Harness {
//			srv := startMyServer(t) // stopped at t's cleanup
//			return transporttest.Harness{
//				Transport: mytransport.New(),
//				Target:    transport.Target{URL: srv.URL},
//				Accept:    srv.Accept, // adapted to return a Peer
//				Hang:      func() transporttest.HungDial { return transporttest.SilentServer(t, "ws") },
//				Caps:      transporttest.Capabilities{Ping: true, PeerPing: true, CloseHandshake: true},
//			}
//		})
//	}
//
// # What Run checks
//
// Each check is a subtest named for what it checks, run on a fresh Harness,
// and followed by a goleak check: no goroutine it started may be left once
// its cleanups have run.
//
//   - Names: Transport.Name is a stable, non-empty label; a fresh Conn is
//     up (Err nil, Done open); a [transport.TransportNamer] names a
//     transport.
//   - RoundTrip: Text and Binary messages go both ways in order and keep
//     their type and payload (every byte value, multi-byte UTF-8, 100
//     KiB); Write keeps no reference to the caller's payload.
//   - WriteBadType: Write of another type fails with
//     [transport.ErrUnsupported] and leaves the Conn up.
//   - WriteEndedContext: a Write whose ctx has ended returns ctx's error,
//     sends nothing, and does not fail the Conn.
//   - ConcurrentWritesAndPings: Write and Ping from many goroutines, with
//     Err, Done and Subprotocol beside them (run the tests with -race);
//     every message arrives, each writer's in order.
//   - Ping: with Capabilities.Ping, a Pong with the payload comes through
//     Read; without, Ping returns ErrUnsupported, never a false success. A
//     payload over 125 bytes is refused and the Conn stays up.
//   - PeerPing: with Capabilities.PeerPing, the server's ping comes through
//     Read and the Pong reaches the server; without, Read returns no Ping.
//   - PeerClose: the server's close comes after the messages sent before
//     it, as a [*transport.CloseError] with Remote true (and the server's
//     code and reason, with Capabilities.CloseHandshake); Done closes; Err
//     and later Reads report the same end; Write fails, and after a Close
//     with an error matching [transport.ErrClosed].
//   - Close: when Close(code, reason) returns, Done is closed and Err
//     reports that code and reason with Remote false; the server gets them
//     with a close handshake; a second Close returns nil and changes
//     nothing.
//   - CloseUnblocksRead: Close returns while a Read is blocked, and that
//     Read returns the close.
//   - CloseUnsendableCodeAborts: Close(1006) ends the Conn at once, and the
//     server gets no close frame.
//   - CloseConcurrently: Close from many goroutines beside writers: every
//     call returns nil, one code wins, the writers stop.
//   - CloseDeliversLateMessages: with Capabilities.CloseHandshake and a
//     Peer that is a [CloseHolder], the messages the server sends between
//     the client's close frame and its answer reach a reader that keeps
//     reading, in order, then the close; Close returns nil, and a
//     [transport.DiscardCounter] counts nothing thrown away.
//   - OperationsAfterClose: after Close, normal or aborting, Write and Ping
//     return errors matching [transport.ErrClosed] (or ErrUnsupported for
//     a Ping the transport lacks).
//   - Drop: a connection lost without a close frame ends with code 1006
//     ([transport.StatusAbnormalClosure]), and Done closes.
//   - DialEndedContext, DialContextEndsDuringHandshake, DialDeadline: Dial
//     returns promptly with an error matching ctx's (context.Canceled or
//     context.DeadlineExceeded) and a nil Conn, and the server sees the
//     dial let go.
//   - Subprotocol: offering the server's subprotocol gets it; offering
//     none gets ""; offering only unknown ones fails with
//     [transport.ErrSubprotocol].
//   - OptionalInterfaces: a [transport.ProgressReporter] found through the
//     Conn counts the bytes of a message read and never goes back, beside
//     a Read; a [transport.Backlogger]'s Buffered returns between Reads.
//
// What the contract leaves open, Run leaves open too: which error Write
// returns after the server closed, Remote on a 1006 end, and which error
// a Ping with an over-long payload matches.
//
// # Helpers
//
// [MemoryHarness] is a Harness over transport/memory, for transports that
// wrap another one (see its example). [SilentServer] is a TCP server that
// never answers, the Hang of any transport that dials TCP.
package transporttest
