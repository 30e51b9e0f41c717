package adapters

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrHeartbeatTimeout is the cause of a heartbeat_timeout transition:
	// nothing arrived within the pong timeout after a probe.
	ErrHeartbeatTimeout = errors.New("tether: heartbeat timeout: no frame from the peer within the pong timeout")
	// ErrCannotPing is reported (through WithHeartbeatErrorHook; the
	// Client puts it on its error stream) when the heartbeat sends pings
	// and the connection's transport answers Ping with
	// transport.ErrUnsupported: nothing can be probed, so the heartbeat
	// stops on that connection instead of declaring a live peer dead.
	// Configure an application-message heartbeat for such a transport,
	// or none.
	ErrCannotPing = errors.New("tether: heartbeat: the transport cannot send pings; this connection is not probed (use an application-message heartbeat)")
	// ErrBadProbe is reported (as ErrCannotPing is) when an
	// application-message heartbeat cannot send its probe: the
	// MessageFunc built one that is not Text or Binary, or Text that is not
	// valid UTF-8 (a *policy.ConfigError says which), or the transport
	// refused its type (transport.ErrUnsupported). The heartbeat stops on
	// that connection instead of declaring a live peer dead, or sending a
	// frame a strict peer closes the connection over (1007).
	ErrBadProbe = errors.New("tether: heartbeat: the probe cannot be sent; this connection is not probed")
	// ErrNilConn is the cause of a failed attempt whose transport's Dial
	// returned neither a Conn nor an error, which breaks the
	// transport.Transport contract; the reconnect policy decides, as for
	// any failed dial.
	ErrNilConn = errors.New("tether: the transport's Dial returned no Conn and no error")
	// ErrBadMessageType is the cause of a connection dropped because its
	// transport's Read returned a message that is neither Text, Binary,
	// Ping nor Pong (the zero Message, say): a Conn that breaks its
	// contract is not read on, and its message is not consumed silently.
	ErrBadMessageType = errors.New("tether: the transport's Read returned a message of no known type")
	// ErrDialAbandoned is reported when the client shut down while a
	// connection attempt was still running and the attempt did not return
	// within DialAbandonGrace of being cancelled: a transport's Dial (or a
	// credentials, header or URL function) that ignores its ctx. The
	// shutdown does not wait for it; a connection it returns later is
	// closed.
	ErrDialAbandoned = errors.New("tether: shutdown did not wait for a connection attempt that ignored its cancelled ctx")
	// ErrConnAbandoned is reported when a connection breaks the
	// transport.Conn contract at its end: its Close did not return within
	// the close limit (WithCloseLimit), or its Read stayed blocked that
	// long after its Close returned. The connection is left behind: the
	// machine moves on (a Close still waiting for that Conn's handshake
	// ends, with this error as the cause), the next connection's reader
	// starts, shutdown completes, and a reader given up in a Read delivers
	// nothing that Read returns later (a reader busy delivering is never
	// given up). The goroutine blocked in the Conn stays blocked until the
	// Conn lets it go. A close limit shorter than the transport's own close
	// timeout reports sound connections whose handshake takes longer.
	ErrConnAbandoned = errors.New("tether: a connection whose Close or Read did not return was abandoned")
	// ErrReconnectRequested is the cause of the drop made by Reconnect
	// while a connection was open.
	ErrReconnectRequested = errors.New("tether: reconnect requested")
	// ErrClosed is returned by operations on a connection that was closed
	// for good (its machine reached Closed).
	ErrClosed = errors.New("tether: client closed")
	// ErrBufferFull means the outbound buffer had no room. With the Error
	// overflow policy Send returns it; with DropOldest and DropNewest it is
	// the reason of the drop report.
	ErrBufferFull = errors.New("tether: outbound buffer full")
	// ErrPossiblyLost is the reason of a drop report for a message that
	// was written to a connection that then failed before the peer
	// confirmed it, or whose write failed once it may have gone out (a
	// reset part-way, a POST the server refused). It may or may not have
	// arrived; the error that carries it also carries the failure.
	ErrPossiblyLost = errors.New("tether: message possibly lost: written, never confirmed")
	// ErrUnconfirmable is the cause of the possibly-lost reports of a
	// connection that can confirm nothing it writes: its Ping returns
	// transport.ErrUnsupported and it is no transport.Confirmer. Its
	// record of unconfirmed writes cannot be emptied by the peer, so when
	// it fills its oldest quarter is reported possibly lost at once, and
	// forgotten, instead of Send waiting for a confirmation that cannot
	// come.
	ErrUnconfirmable = errors.New("tether: the connection cannot confirm what it writes (Ping unsupported, no transport.Confirmer)")
	// ErrTooLargeToQueue means a message had to wait in the outbound buffer
	// (the connection was not open, or messages were queued before it) and
	// is larger than the buffer's byte limit. A *QueueSizeError carries the
	// sizes. (transport.ErrMessageTooLarge is a different thing: an inbound
	// message over the transport's limit, closed with 1009.)
	ErrTooLargeToQueue = errors.New("tether: message too large to queue in the outbound buffer")
)

// QueueSizeError is what Send returns for a message that had to be queued
// and is larger than the outbound buffer's byte limit. While the connection
// is open and nothing is queued, a message of any size is written at once
// instead. Nothing was written or queued.
type QueueSizeError struct {
	// Size is the message's payload size in bytes.
	Size int
	// Limit is the outbound buffer's byte limit (WithBufferLimits;
	// tether.WithSendBuffer for a Client).
	Limit int
}

func (e *QueueSizeError) Error() string {
	return fmt.Sprintf("tether: a %d-byte message cannot wait in the outbound buffer, which holds %d bytes (raise it with WithSendBuffer, or send while open)", e.Size, e.Limit)
}

// Unwrap returns ErrTooLargeToQueue.
func (e *QueueSizeError) Unwrap() error { return ErrTooLargeToQueue }

// possiblyLost is the reason of a drop report for a message written to a
// connection that then failed: it matches ErrPossiblyLost and the failure.
type possiblyLost struct{ cause error }

func (e *possiblyLost) Error() string { return ErrPossiblyLost.Error() + ": " + e.cause.Error() }

func (e *possiblyLost) Unwrap() []error { return []error{ErrPossiblyLost, e.cause} }
