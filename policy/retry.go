package policy

import (
	"errors"
	"time"

	"github.com/tether-go/tether/transport"
)

// RetryContext is everything a reconnect policy may look at before an
// attempt. The adapter builds one per attempt (usually with
// [Streak.Context]) and passes it by value; a policy never keeps it.
type RetryContext struct {
	// Attempt is the number of the attempt about to be made, 1-based and
	// counted within the current streak of failures (see [Streak]).
	Attempt int
	// Elapsed is the time since the streak began: since the connection was
	// lost, or since the first failed dial when it never opened.
	Elapsed time.Duration
	// PrevDelay is the delay the policy returned for the previous attempt of
	// this streak, or 0 before the first. Stateful strategies such as
	// decorrelated jitter read it here instead of keeping state, so one
	// policy value can be shared by any number of connections.
	PrevDelay time.Duration
	// Err is the last error: why the connection was lost or the dial failed.
	Err error
	// CloseCode is the close code carried by Err, or 0 when none.
	CloseCode transport.StatusCode
	// HTTPStatus is the status of a refused handshake carried by Err, or 0.
	HTTPStatus int
	// RetryAfter is the server's Retry-After, valid when HasRetryAfter.
	RetryAfter    time.Duration
	HasRetryAfter bool
	// Uptime is how long the last connection stayed open, or 0 when the last
	// attempt never opened.
	Uptime time.Duration
	// Transport names the transport in use ([transport.Transport.Name]).
	Transport string
	// CanRefreshCredentials reports that a credentials provider is
	// configured, so a new attempt carries freshly fetched credentials.
	CanRefreshCredentials bool
}

// WithError returns a copy of rc with Err set to err and CloseCode,
// HTTPStatus, RetryAfter and HasRetryAfter derived from it: the close code of
// a [*transport.CloseError] in err's chain, the status and Retry-After header
// of a [*transport.HandshakeError] (an HTTP date is read relative to now).
// Fields err does not carry are reset to zero.
//
// It is a pure function, safe from any goroutine.
func (rc RetryContext) WithError(err error, now time.Time) RetryContext {
	rc.Err = err
	rc.CloseCode, _ = transport.CloseCode(err)
	rc.HTTPStatus = transport.StatusFromError(err)
	rc.RetryAfter, rc.HasRetryAfter = 0, false
	var he *transport.HandshakeError
	if errors.As(err, &he) {
		rc.RetryAfter, rc.HasRetryAfter = he.RetryAfter(now)
	}
	return rc
}

// Decision is a policy's answer: wait Delay and retry, or stop.
type Decision struct {
	// Delay is how long to wait before the attempt. Ignored when Stop.
	Delay time.Duration
	// Stop means give up: the adapter closes with Reason as the cause.
	Stop bool
	// Reason says why it stopped. The policies of this package always set a
	// [*StopError]; custom ones should set something errors.Is can match,
	// which [Policy] wraps in a *StopError of [RuleStrategy] (a *StopError
	// of their own is passed on as it is).
	Reason error
}

// Reconnect decides, for each attempt, how long to wait or whether to stop.
//
// # Concurrency contract
//
// The adapter calls Next once per attempt, from the one goroutine that drives
// the connection, never concurrently for the same connection. A policy value
// may be shared by many connections, so implementations should be safe for
// concurrent use; every implementation in this package is, because it keeps
// no state: what the previous attempt did arrives in [RetryContext.PrevDelay]
// and [RetryContext.Attempt]. A custom policy that must keep state should
// key it by something in the context, or be given to one connection only.
//
// Next must not block, sleep or do I/O: it runs on the connection's control
// loop. For the same reason it must not call the client it decides for
// (Close, Disconnect, Connect wait for that loop, which is running Next:
// a deadlock): to end the client, return a Decision with Stop set.
type Reconnect interface {
	// Next returns the decision for the attempt described by rc.
	Next(rc RetryContext) Decision
}

// Func adapts a function to [Reconnect], in the manner of SignalR's
// nextRetryDelay: return a delay, or a Decision with Stop set.
type Func func(rc RetryContext) Decision

// Next calls f(rc). It is as safe for concurrent use as f is.
func (f Func) Next(rc RetryContext) Decision { return f(rc) }
