// Package memory is an in-process transport with a scriptable server, for
// tests and examples. It implements [transport.Transport] and
// [transport.Conn] at the level of messages: nothing goes through a socket.
//
// A test makes a [Server], hands its [Server.Transport] to the code under
// test, and plays the server through the [ServerConn] that [Server.Accept]
// returns for each connection. [Pipe] gives both ends of one connection
// without a server, for unit tests of code that takes a Conn.
//
// # What it simulates
//
//   - The handshake: every dial is recorded with its URL, headers and offered
//     subprotocols ([Server.Dials], [Server.WaitDials]) and answered by a
//     scripted [Answer]: proceed, refuse with an HTTP status
//     ([*transport.HandshakeError]), fail as an unreachable host, or hang
//     until the dial's ctx ends. Subprotocols are agreed as in WebSocket
//     ([WithSubprotocols], [transport.ErrSubprotocol]).
//   - Frames as WebSocket has them: text and binary messages, fragmented
//     messages the client reassembles ([ServerConn.SendFragmented]), pings
//     answered by pongs on both sides, and the close handshake with a code
//     and reason in each direction.
//   - What a careful client checks: a size limit on reassembled messages
//     (close 1009, [transport.ErrMessageTooLarge]), UTF-8 in text messages
//     (close 1007, [transport.ErrInvalidUTF8]), and the server's close frame
//     (a code that may not be sent, or an over-long reason, gives close 1002,
//     [transport.ErrProtocol]).
//   - Faults: a connection that vanishes without a close frame
//     ([ServerConn.Drop]: code 1006, wrapping io.ErrUnexpectedEOF), and a
//     black-holed server ([ServerConn.Stall]) that reads nothing, answers no
//     ping and acknowledges no close, so the client's writes block once the
//     queue is full and its Close runs into its timeout.
//   - Backpressure: each direction holds at most [WithQueueLimit] frames;
//     a writer beyond that blocks until there is room or its ctx ends.
//
// # What it does not simulate
//
// No bytes are framed, masked or parsed, so there is no partial read, no
// coalesced write and no TLS. Latency and bandwidth do not exist: a message
// is readable as soon as Send returns. A client's Write is not checked
// against any server limit.
//
// # Time
//
// Nothing here sleeps or reads the time. The one timer is a client's close
// timeout, armed only while a Close waits for a server that does not answer;
// it runs on the clock from [WithClock], so a test can pass a
// tethertest.FakeClock and step through it. Everything else happens when a
// method is called, in a deterministic order.
//
// # Ending
//
// The client's Conn reads the server's frames in order: a close frame after
// three messages is seen after the three messages. A Drop is immediate and
// loses what was queued, like a reset. The server's end follows the client's:
// it ends when the client ends, and [ServerConn.Err] reports the handshake
// from the server's side, [ErrDropped] after Drop, or [ErrAbandoned] for a
// dial the client gave up.
//
// # Cost
//
// A connection is a mutex, two queues and a few channels. No goroutine runs
// behind it: every wait is the caller's, on a channel that the next change
// closes.
//
// # Concurrency
//
// [Server], [Transport] and [ServerConn] are safe for concurrent use. The
// client's Conn follows the [transport.Conn] contract: one reader, any
// number of writers, Close from anywhere.
package memory
