package transport

import (
	"context"
	"net/http"
)

// Target says what to dial. Providers in the client build a fresh Target for
// every attempt, so URLs, headers and subprotocols can carry refreshed
// credentials.
type Target struct {
	// URL is the address to dial, for example wss://example.com/feed.
	URL string
	// Header holds extra request headers for the handshake (for HTTP
	// polling, of every request). A name written in several spellings
	// sends the values of all of them. The user and password of URL go
	// out as Basic authorization unless Header has an Authorization of
	// its own, which is sent instead; an Authorization with only empty
	// values sends neither.
	Header http.Header
	// Subprotocols lists the subprotocols to offer, in preference order.
	// When it is not empty, a server that selects none is an error.
	Subprotocols []string
}

// Transport dials connections. Implementations are safe for concurrent use:
// several goroutines may dial at once.
//
// Package transport/transporttest checks an implementation of Transport and
// [Conn] against this contract.
type Transport interface {
	// Dial connects to target and completes the handshake. It returns when
	// the connection is ready for Read and Write, or with an error when ctx
	// ends, the dial or handshake times out ([ErrTimeout]), or the server
	// refuses ([*HandshakeError]).
	//
	// When ctx ends first (or has ended before the call), Dial returns
	// promptly, without waiting for the network, with a nil Conn and an
	// error matching ctx.Err(), and leaves nothing open behind it.
	//
	// When target.Subprotocols is not empty, the Conn's Subprotocol is one
	// of them, or Dial fails with an error matching [ErrSubprotocol].
	Dial(ctx context.Context, target Target) (Conn, error)
	// Name is a short stable label such as "websocket" or "polling". It shows
	// in transitions and logs, so users can tell which transport is in use.
	Name() string
}

// Conn is one established connection.
//
// Read has one caller at a time (the reader goroutine). Write and Ping may be
// called from many goroutines at once. Close, Done, Err and Subprotocol may
// be called from any goroutine at any time.
//
// A Conn may have optional methods too, each declared as an interface of
// this package: [TransportNamer], [Backlogger], [Confirmer], [ProgressReporter],
// [DiscardCounter], [ReaderExpecter], [ReaderReleaser] and [Wrapper].
// Callers find them with a type assertion (or [BacklogOf], [ConfirmerOf],
// [ProgressOf], [DiscardsOf], [ExpecterOf] and [ReleaserOf]) and do
// without when they are missing.
type Conn interface {
	// Read blocks until the next inbound message and returns it. The
	// payload is borrowed: it stays valid only until the next call to Read,
	// which lets a transport reuse one buffer and read without allocating.
	// Use [ReadOwned] when the bytes must outlive the next Read.
	//
	// Read returns control messages too ([Ping] after the Conn has replied
	// to it, and [Pong]), so the caller can count every inbound frame as a
	// sign of life. A peer's close frame ends the Conn: Read returns the
	// messages sent before it, then a [*CloseError] with Remote true and the
	// peer's code and reason (a transport without close frames reports the
	// server ending the connection the same way, with Remote true and the
	// code it maps that ending onto). A connection lost without a close
	// frame ends with a *CloseError of code [StatusAbnormalClosure]. After
	// the Conn has ended, and the messages described under Close have been
	// returned, Read returns the same error as Err. Close unblocks a pending
	// Read.
	//
	// Every message Read returns is Text, Binary, Ping or Pong: a client
	// drops a Conn whose Read returns another type (the zero Message, say)
	// with adapters.ErrBadMessageType.
	//
	// Only one goroutine may call Read.
	Read() (Message, error)

	// Write sends one message of type Text or Binary. The payload is not
	// retained after Write returns. Concurrent Writes are serialised by the
	// Conn (a client adds no lock of its own, so a Write that never returns
	// holds every other); a transport may coalesce them into one flush.
	//
	// A nil error means the message was accepted: written, or committed to
	// be written in order after the messages accepted before it. It does not
	// mean the peer received it. Another type gives an error matching
	// [ErrUnsupported], and the Conn stays up; so does a message this Conn
	// cannot carry at all (a polling Conn without a send URL): nothing of
	// it was written, and a client reports it dropped, not possibly lost.
	// When the Conn has ended, or
	// fails before any byte of the message was written, the error matches
	// [ErrClosed] (with the failure in the chain): the message was not
	// sent, and a client sends it again on its next connection. Any other
	// error means the write failed once the message may have begun to go
	// out: it may or may not have arrived. Whether the Conn stays up after
	// such an error is the Conn's to decide: a client does not end it for
	// one, so a Conn that can no longer carry messages must end itself (its
	// Read then returns the end).
	//
	// ctx bounds the caller's wait, never the connection: a ctx that ends
	// does not fail the Conn, nor the Writes of other callers.
	//
	//   - If ctx ends before the message is accepted (while Write waits for
	//     its turn or for room), Write returns an error matching ctx.Err()
	//     and nothing of the message is sent.
	//   - If ctx ends once the message is being sent, a transport that
	//     writes all messages into one stream (websocket) cannot take back a
	//     message it has begun: the message is committed, Write returns nil
	//     promptly, without waiting for the network, and the transport
	//     finishes the message in the background, in order. A transport whose
	//     messages are separate requests may instead abandon the request and
	//     return an error matching ctx.Err(); then the message may or may
	//     not have arrived. Each transport documents which it does; tether's
	//     polling transport finishes its POST in the background and returns
	//     nil, as WebSocket does.
	//
	// Safe for concurrent use.
	Write(ctx context.Context, typ MessageType, payload []byte) error

	// Ping sends a ping carrying payload (at most 125 bytes; a longer one
	// gives an error, and the Conn stays up). The peer's Pong, carrying the
	// same payload, arrives through Read. A transport that cannot tell a live
	// peer this way returns an error matching [ErrUnsupported], never nil;
	// callers then fall back to an application heartbeat.
	//
	// Safe for concurrent use.
	Ping(ctx context.Context, payload []byte) error

	// Close starts the close handshake with code and reason, waits for it
	// under the transport's close timeout, and releases the connection. It
	// is safe from any goroutine, any number of times; calls after the first
	// return nil and do nothing.
	//
	// A code that may not be sent on the wire (see [StatusCode.Sendable],
	// for example [StatusAbnormalClosure]) aborts instead: no close frame,
	// no wait, the connection is released at once. Callers abort a peer
	// that stopped answering, or a connection nobody will use.
	//
	// When Close returns, the connection has ended: Done is closed, and Err
	// reports a [*CloseError] with code and reason and Remote false, unless
	// the connection ended otherwise first (it had failed, or the peer's
	// close crossed this one). From then on Write and Ping return errors
	// matching [ErrClosed]. A transport without a close handshake (HTTP
	// polling) behaves the same, and sends nothing.
	//
	// The peer may still send data messages between this side's close frame
	// and its answer. A reader that keeps calling Read gets them, in order:
	// a pending Read, and each Read after it, returns them (also after Close
	// has returned, for those the Conn received meanwhile), then the error
	// Err reports. A transport may bound what it keeps for a reader that is
	// not reading and throw the rest away; it then counts every message it
	// threw away (see [DiscardCounter]), so that nothing is lost silently.
	// What the peer sends after the close timeout has run out is lost with
	// the connection, and Close reports the timeout.
	Close(code StatusCode, reason string) error

	// Done is closed when the connection has ended, for whatever reason.
	Done() <-chan struct{}

	// Err reports how the connection ended: a [*CloseError] for a close
	// handshake (sent or received), another error for a failure, or nil
	// while the connection is up. A transport that fails the connection
	// itself (a protocol violation, a message too large) may report that
	// error as soon as it does, before Done is closed; Read returns it from
	// then on.
	Err() error

	// Subprotocol is the subprotocol the server selected, or "".
	Subprotocol() string
}

// ReadOwned reads the next message like [Conn.Read] and returns a copy of its
// payload that the caller owns. It costs one allocation per non-empty
// payload.
func ReadOwned(c Conn) (Message, error) {
	m, err := c.Read()
	if err != nil {
		return m, err
	}
	if len(m.Payload) > 0 {
		m.Payload = append([]byte(nil), m.Payload...)
	}
	return m, nil
}

// Backlogger is implemented by a Conn that can tell, without blocking,
// whether its next Read will return at once because the message is already
// received in full. A reader uses it to hand messages on in batches: it keeps
// reading while Buffered reports true, and hands on what it gathered when it
// reports false, before Read would wait for the network.
//
// Buffered is called by the reader goroutine only, between Reads. A false
// answer is always safe (the reader hands on after every message); true must
// mean that the next Read returns without waiting for the network.
type Backlogger interface {
	Buffered() bool
}

// TransportNamer is implemented by a Conn that names the transport that
// made it, for a composite whose Conns come from different transports:
// transport/fallback returns Conns of its primary or of its secondary
// transport, and each names its own ("websocket", "polling") where the
// composite's [Transport.Name] says "fallback". Callers that label a
// connection (transitions, logs) ask the Conn first and use the Name of
// the Transport that dialled it when the Conn has no TransportName.
//
// TransportName returns a short stable label, as [Transport.Name] does, the
// same for the life of the Conn. It is safe from any goroutine and must not
// block.
type TransportNamer interface {
	TransportName() string
}

// DiscardCounter is implemented by a Conn that may read data messages and
// throw them away, so that Read never returns them: the WebSocket
// transport does so in a close handshake this side started, for the
// messages the peer sends before its answer when nobody reads them and
// there are more than it keeps (see [Conn] Close), and when the connection
// fails (an abort, a failed write) while no Read is in progress, for what
// the socket still held. A caller that accounts
// for every message (the tether client reports them as dropped) asks
// after its last Read, which returned the end.
//
// Discarded returns how many data messages the Conn has thrown away so
// far; the count only grows, and is final by the time a Read returns the
// Conn's end. It is safe from any goroutine and must not block.
type DiscardCounter interface {
	Discarded() uint64
}

// ReaderExpecter is implemented by a Conn that treats a connection nobody
// reads differently from one whose reader is coming: the WebSocket
// transport, in a close handshake this side started, keeps a bounded
// amount of what the peer sends before its answer for the reader, then
// waits for the reader to take it (within the close timeout) when there is
// one, and throws the rest away when there is none (see [DiscardCounter]).
// Without a hint it counts a reader from its first Read, which may come
// late: a reader that finishes something else first (the tether client's
// reader of a new connection first waits for the previous connection's
// handlers) would find the messages thrown away.
//
// ExpectReader says that a goroutine will call Read on this Conn until it
// returns the Conn's end, from now on. Call it before Close can start
// (when the connection opens); calling it more than once is harmless. It
// is safe from any goroutine and must not block.
type ReaderExpecter interface {
	ExpectReader()
}

// ReaderReleaser is implemented by a Conn whose close handshake can stop
// keeping what the peer sends before its answer: the WebSocket transport.
// ReleaseReader says that nothing read from now on is wanted: the close
// handshake then throws the peer's late data messages away as it reads
// them, counting them (see [DiscardCounter]), instead of keeping them for
// a reader or waiting for one to take them; a Read in progress, or one
// that comes, still returns what it reads. The tether client calls it when
// Close is called (after which no message reaches user code), so that a
// Close called by the reader's own callback, while the peer keeps
// sending, does not wait the close timeout for a reader that is the caller
// itself. It is safe from any goroutine and must not block.
type ReaderReleaser interface {
	ReleaseReader()
}

// ProgressReporter is implemented by a Conn that reports what its reader is
// doing, so that a heartbeat can tell a silent peer from a reader that is busy
// elsewhere (handing a message to a slow consumer, say) and can count a large
// message that is still arriving as a sign of life.
//
// ReadProgress returns how many bytes the Conn has received from the network
// so far (control frames, frame headers and partial frames included) and
// whether a Read is waiting for the network right now. It is safe from any
// goroutine and must not block.
type ProgressReporter interface {
	ReadProgress() (received uint64, waiting bool)
}
