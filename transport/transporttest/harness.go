package transporttest

import (
	"context"
	"time"

	"github.com/tether-go/tether/transport"
)

// DefaultWait is how long a check waits, by default, for something that
// must happen: a message, a Dial returning after its ctx ended, a Close. It
// never elapses in a passing run; see [Harness.Wait].
const DefaultWait = 10 * time.Second

// Harness is what [Run] needs to test one transport: the transport, a
// server it dials, and what the transport can do. Run asks for a fresh
// Harness in every check, so every check starts with a server of its own;
// whatever the Harness starts must end at the cleanup of the *testing.T it
// was made for.
//
// Run keeps at most one connection of a Harness open at a time, and accepts
// each connection it dials through [Harness.Accept] before it dials the
// next, so a server that cannot tell its clients apart (a polling endpoint,
// say) may hand every request to the latest connection.
type Harness struct {
	// Transport is the transport under test.
	Transport transport.Transport
	// Target dials the harness's server through Transport. The
	// subprotocol check adds Subprotocols to it; otherwise Run dials it as
	// it is.
	Target transport.Target
	// Accept returns the server's end of the next connection that reached
	// the server, in dial order, blocking until there is one or ctx ends.
	Accept func(ctx context.Context) (Peer, error)
	// Hang prepares a dial that never completes its handshake (see
	// [HungDial]). A check that calls it dials nothing else through this
	// Harness afterwards.
	Hang func() HungDial
	// Subprotocol is a subprotocol the server selects when a dial offers
	// it; the server must not select "transporttest.unknown". Leave it ""
	// for a transport that negotiates none: then the check asserts that a
	// dial offering subprotocols fails with [transport.ErrSubprotocol], as
	// the contract requires.
	Subprotocol string
	// Caps says what the transport can do. For what it cannot, the checks
	// assert the behaviour the contract documents instead.
	Caps Capabilities
	// Wait bounds every wait for something that must happen; 0 means
	// [DefaultWait].
	Wait time.Duration
}

// Capabilities says which optional parts of the [transport.Conn] contract a
// transport provides. The zero value is a transport with none of them; Run
// then checks the documented alternative instead of skipping.
type Capabilities struct {
	// Ping: the Conn's Ping reaches the peer, and a Pong carrying the
	// payload arrives through Read. Without it, Ping must return an error
	// matching [transport.ErrUnsupported], never nil: a false success would
	// hide a dead peer from a heartbeat.
	Ping bool
	// PeerPing: the server can ping the client; Read returns the
	// [transport.Ping] and the Conn's Pong reaches the server. Without it,
	// the Peer's Ping must return an error matching
	// [transport.ErrUnsupported], and Read never returns a Ping.
	PeerPing bool
	// CloseHandshake: close frames go both ways. The peer's code and
	// reason reach Read, and this side's reach the peer. Without it (HTTP
	// polling), the server ending a connection still gives Read a
	// [*transport.CloseError] with Remote true, with the code the transport
	// maps that ending onto, and this side's Close still reports its own
	// code and reason; nothing reaches the peer.
	CloseHandshake bool
}

// Peer is the server's end of one connection, as the checks drive it. Its
// methods must be safe for concurrent use: checks call Recv while other
// goroutines write, for one. The Peer of transport/memory,
// [*memory.ServerConn], is one as it is.
type Peer interface {
	// Send sends one message of type Text or Binary, never empty, to the
	// client.
	Send(ctx context.Context, typ transport.MessageType, payload []byte) error
	// Recv returns the next thing the client sent, blocking until there is
	// one or ctx ends: a Text or Binary message with its type and a
	// payload the caller keeps, a Pong answering the Peer's Ping, or, once
	// the client's close frame has come, a [*transport.CloseError] carrying
	// its code and reason (with Caps.CloseHandshake). Pings the client sent
	// may be returned too; the checks pass over them.
	Recv(ctx context.Context) (transport.Message, error)
	// Ping sends a ping carrying payload, or returns an error matching
	// [transport.ErrUnsupported] without Caps.PeerPing.
	Ping(ctx context.Context, payload []byte) error
	// Close ends the connection from the server with code and reason,
	// after the messages sent before it, without waiting for the client: a
	// close frame with Caps.CloseHandshake, otherwise whatever ends a
	// connection from the server on this transport.
	Close(code transport.StatusCode, reason string)
	// Drop ends the connection abruptly, without a close frame: a reset,
	// a crash, a server that stops answering.
	Drop()
}

// CloseHolder is a [Peer] that can leave the client's close frame
// unanswered for a while, as RFC 6455 lets a server do, so that the check
// CloseDeliversLateMessages can send messages between the two close
// frames. A Peer without it, or a transport without
// Capabilities.CloseHandshake, skips that check. [*memory.ServerConn] and
// tethertest.WSConn are CloseHolders.
type CloseHolder interface {
	Peer
	// HoldClose makes the Peer leave the client's next close frame
	// unanswered: Recv returns it as usual (a [*transport.CloseError]),
	// Send still sends, and Close sends the answer. It is called before
	// the client closes.
	HoldClose()
}

// HungDial is a dial whose handshake never completes: the server takes the
// connection (or the request) and never answers. The dial checks use it to
// see that Dial honours its ctx and leaves nothing open.
type HungDial struct {
	// Target is what to dial, through [Harness.Transport].
	Target transport.Target
	// Reached blocks until a dial of Target has reached the server, or ctx
	// ends.
	Reached func(ctx context.Context) error
	// Released blocks until the server has seen the client let go of every
	// dial of Target that reached it (closed the connection, abandoned the
	// request), or ctx ends. It returns at once when none reached it.
	Released func(ctx context.Context) error
}
