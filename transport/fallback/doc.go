// Package fallback is a composite [transport.Transport]: it dials a primary
// transport (WebSocket), falls back to a secondary one (HTTP polling, see
// transport/polling) when the primary cannot get through, and upgrades back
// to the primary when it returns. Socket.IO's fallback never triggers when a
// proxy blocks WebSocket, and most clients never return to WebSocket once
// they have fallen back; this package does both.
//
// # Switching to the secondary
//
// Every Dial goes to the active transport, the primary at first. A primary
// dial that fails counts one failure; a successful one resets the count.
// The Dial that sees the [WithSwitchAfter]-th failure in a row
// ([DefaultSwitchAfter], 3) switches and goes on to dial the secondary, so
// the caller gets a secondary Conn (or the secondary's error) from that same
// call; earlier failures are returned as they are, for the client's
// reconnect policy to delay the next attempt.
//
// Some refusals switch at once: those a proxy or a WebSocket-unaware server
// gives (see [DefaultProxyRefusal]: a handshake answered with 400, 403, 404,
// 405, 426, 501, a plain 2xx, or something that is not a handshake). Waiting
// for more failures would only delay the fallback, and a policy that treats
// 403 or 404 as terminal (the client's default does) would never let it
// happen. [WithProxyRefusal] replaces the
// classifier. A Dial abandoned through its ctx counts nothing.
//
// # Upgrading back
//
// While the secondary is in use, the primary is probed every
// [WithProbeInterval] ([DefaultProbeInterval], 30 s) on the clock of
// [WithClock], each probe a primary dial bounded by [WithProbeTimeout]
// ([DefaultProbeTimeout], 10 s, real time). The schedule and the probe
// belong to the Transport: one probe per interval, however many secondary
// Conns and Dials find it due. The first caller to find it due dials the
// primary; a caller that finds it due while that dial runs waits for its
// outcome and dials nothing; a failed probe puts the next one an interval
// away for all of them. (If the caller that dialed gives up, its Conn
// closed or its Dial's ctx ended, one of the callers waiting probes in its
// place, and the schedule does not move.) Probes run in two places:
//
//   - Each open Conn of the secondary has one prober goroutine, which wakes
//     at the Transport's probe time. When a probe succeeds, the primary
//     becomes active, the probe connection is closed normally (1000,
//     "tether: probe"), and the secondary Conn ends itself: Read and Err
//     report a [*transport.CloseError] with code 1012 (service restart)
//     wrapping [ErrUpgrade]. The client's lifecycle sees an ordinary drop
//     with a retryable close code (the default close-code rules retry
//     1012), its reconnect policy runs, and the next Dial goes to the
//     primary. Other secondary Conns of the same Transport end the same way
//     at their next probe time, without probing: those waiting for that
//     probe's outcome at once, the others when they wake. One primary
//     handshake is made per upgrade, whatever the number of Conns.
//   - A Dial made while the secondary is active and a probe is due tries the
//     primary first; if it answers, that connection is the result (no second
//     handshake), and the primary is active again. So a client that is
//     reconnecting, with no secondary Conn open, still upgrades. A Dial that
//     finds a probe in flight waits for its outcome instead, then dials the
//     primary if it answered and the secondary if not.
//
// Why end the Conn rather than swap the connection under the client: a
// swap would have to hand over messages in flight on the old transport
// without loss or duplicates, which needs a server protocol (Socket.IO has
// one). Ending the Conn routes the upgrade through the lifecycle the client
// already has: the transition is traced with its cause, the outbound buffer
// holds what is sent meanwhile and reports what may have been lost, and
// resumption, where the application has it, runs as after any reconnect.
// The probe connection is closed rather than kept for the next Dial, so no
// connection is ever parked without an owner; the cost is one extra
// handshake per upgrade.
//
// # Which transport is in use
//
// Conns returned by Dial implement [transport.TransportNamer]: their
// TransportName method reports the name of the transport that made them
// ("websocket", "polling"), which the client's connector uses to label
// transitions, so traces and diagrams show every switch. [Transport.Active]
// says where the next Dial goes, and [WithOnSwitch] is told about each
// switch with its reason: the primary's error for a downgrade, ErrUpgrade
// for an upgrade.
//
// The Conns also have an Unwrap method ([transport.Wrapper]), so
// [transport.BacklogOf], [transport.ProgressOf] and [transport.DiscardsOf]
// find the optional interfaces of the Conn underneath (the WebSocket
// one's, say): the wrapper reads through it, message for message.
//
// # Heartbeat
//
// The secondary Conn is passed through as it is. The polling transport
// answers pings with a pong after its next successful poll, so the default
// ping-frame heartbeat keeps working after a fallback to polling.
//
// # Goroutines
//
// The Transport runs nothing of its own. Each secondary Conn runs one
// prober goroutine, which Close stops (abandoning a probe in flight) and
// waits for. Primary Conns are passed through with no goroutine added.
//
// # Concurrency
//
// [Transport] is safe for concurrent use; the switch state is shared by
// every Dial made through it. The Conns follow the [transport.Conn]
// contract of the transport underneath.
package fallback
