// Package transport defines the port between a tether connection and the wire:
// the [Transport] that dials, the [Conn] it returns, the message and close
// types they exchange, and the typed errors every transport reports.
//
// The package holds no implementation. The shipped adapters are
// transport/websocket (gobwas/ws), transport/memory (in-process, for tests and
// examples), transport/polling (HTTP) and transport/fallback (a composite that
// downgrades to a fallback and upgrades back). A transport is usable on its
// own: nothing here depends on the state machine, the policies or the
// adapters.
//
// # Concurrency contract
//
// A [Conn] has exactly one reader goroutine, the one that calls [Conn.Read].
// [Conn.Write] and [Conn.Ping] may be called from any number of goroutines at
// once; the Conn serialises them through a single writer, so frames never
// interleave. [Conn.Close] may be called from any goroutine, any number of
// times, concurrently with everything else.
//
// # Optional interfaces
//
// A Conn may also tell its reader more. A [Backlogger] says whether the next
// Read will return at once (its Buffered is for the reader goroutine,
// between Reads), so the reader can hand messages on in batches; a
// [ProgressReporter] says how many bytes have arrived and whether a Read
// waits for the network (from any goroutine), so a heartbeat can tell a
// busy reader from a silent peer; a [DiscardCounter] counts the data
// messages the Conn threw away without Read returning them (in a close
// handshake, see [Conn]), so a caller can report them. A Conn that wraps
// another one exposes it through [Wrapper], and [BacklogOf], [ProgressOf]
// and [DiscardsOf] find the implementation along that chain. A Conn of a composite transport (one
// that picks among others, as fallback does) names the transport that made
// it with [TransportNamer]. Callers do without when they find none. The
// conformance suite in transport/transporttest checks a transport against
// this contract.
//
// # Errors
//
// Errors are typed so callers branch with [errors.Is] and [errors.As]:
// [*CloseError] carries the close code and reason (see [CloseCode] for a
// helper that finds the code in any error), [*HandshakeError] the HTTP answer
// to a refused upgrade, [ErrMessageTooLarge] an oversized message, and
// [ErrTimeout] a dial or handshake that ran out of time.
package transport
