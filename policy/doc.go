// Package policy holds the decisions around a connection's life: when to
// reconnect and when to give up, and how to probe a connection for life.
// It is pure: no I/O, no goroutines, no timers. The reconnect and heartbeat
// adapters in tether/adapters apply these decisions on a clock.
//
// # Reconnect policies
//
// A [Reconnect] gets a [RetryContext] (attempt, elapsed time, last error,
// close code, HTTP status, Retry-After, uptime of the last connection,
// transport, whether credentials can be refreshed, the previous delay) and
// returns a [Decision]: a delay, or stop with a typed reason ([*StopError]).
//
// Strategies give the delays: [Exponential] (no, full, equal or decorrelated
// jitter), [Constant], a fixed [Schedule] with the [SignalR] and [Phoenix]
// presets, and [Never]. [New] composes a strategy with the rules and caps
// around it into a [Policy]: declarative close-code rules ([CloseRules]),
// HTTP-status rules ([HTTPRules]), Retry-After, [WithMaxAttempts],
// [WithMaxElapsed] and [WithMinUptime]. [Default] is the composition most
// long-lived clients want; docs/reconnect.md justifies its numbers against
// gRPC, Socket.IO, reconnecting-websocket, Phoenix and SignalR.
//
// Write your own policy as a [Func], or wrap one in [New] to keep the rules
// and caps.
//
// [PreviewOf] shows the schedule ahead of a decision: the attempts that
// would follow should each fail too, each with the interval its delay will
// be drawn from, and why the policy would give up after them. It needs a
// [Previewer] (Bounds: a decision's bounds, drawing nothing), which every
// policy of this package is and a [Func] is not.
//
// # Statelessness and concurrency
//
// Every policy in this package is an immutable value and safe for
// concurrent use, so one value can serve many connections. What a policy
// needs to remember arrives in the context instead: the attempt number and
// the previous delay. The adapter keeps that bookkeeping per connection in a
// [Streak], which also applies the minimum-uptime rule (a connection that
// stayed up long enough starts the count over) and makes "reset the backoff
// and retry now" a matter of zeroing one value.
//
// # Heartbeat
//
// [Heartbeat] holds the settings of the liveness probe: interval, pong
// timeout (strictly below the interval), WebSocket ping frames or an
// application message, and an optional matcher for application pongs.
// [DefaultHeartbeat] pings every 15 s with a 10 s timeout;
// [DisabledHeartbeat] turns it off.
//
// # Errors
//
// A stop's reason is a [*StopError] naming the rule; errors.Is matches its
// sentinel ([ErrAttemptsExhausted], [ErrElapsedExceeded],
// [ErrTerminalCloseCode], [ErrTerminalHTTPStatus], [ErrUnauthorized],
// [ErrScheduleExhausted], [ErrNever]) and the last connection error.
// Bad parameters are reported as a [*ConfigError], matching
// [ErrInvalidConfig]; nothing here panics.
package policy
