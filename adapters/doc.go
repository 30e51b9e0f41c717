// Package adapters composes the swappable parts around a lifecycle
// [fsm.Machine]: each adapter attaches a hook to the machine, reacts to the
// transitions it cares about, and fires events back through the machine, never
// from inside the machine's own callbacks.
//
// # The adapters
//
//   - [Connector] dials on every entry to Connecting (through a
//     [transport.Transport], at a target built by a [TargetFunc] on every
//     attempt), runs the reader while Open, the close handshake on Closing,
//     and closes a half-made connection when a dial is abandoned.
//   - [Reconnect] asks a [policy.Reconnect] on every entry to Waiting, waits
//     the delay on the clock and fires retry, or fires give_up with the
//     policy's reason. [Reconnect.RetryNow] resets the backoff.
//   - [Heartbeat] probes an open connection on the clock and fires
//     heartbeat_timeout with [ErrHeartbeatTimeout], a failure, so the
//     reconnect policy runs. Any inbound frame counts as alive; the answer to
//     a probe gives the round-trip time.
//   - [Outbox] buffers sends while no connection is open, bounded by count
//     and bytes under an [Overflow] policy, flushes them in order on the next
//     open, and reports every message it drops or that may have been lost.
//   - [LogTransitions] records each transition with its cause on a
//     *slog.Logger.
//
// The Connector tells its observers (the Heartbeat and the Outbox) about each
// [Session]; see [Observer] for who calls what from which goroutine.
//
// # Goroutines
//
// An idle open connection costs one goroutine, the Connector's reader: the
// machine has no goroutine of its own (its actor is whichever caller fires
// an input), heartbeat probes and reconnect delays run on clock timers, the
// dial and the flush on short-lived goroutines. Every adapter has
// a Wait method; after the machine reaches Closed, waiting on each leaves
// nothing running.
package adapters
