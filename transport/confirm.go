package transport

// Confirmer is implemented by a Conn whose peer acknowledges each message
// it takes, so that a client need not wait for a ping's answer to know it
// arrived: an HTTP polling Conn whose Write returns nil only once the POST
// was answered with a 2xx. Unconfirmed returns how many of the messages its
// Write accepted so far are not acknowledged yet; messages are
// acknowledged in the order they were accepted, so these are always the
// latest ones.
//
// A client asks after each of its writes and once more before it reports
// what the connection left unconfirmed: every message it wrote before the
// latest Unconfirmed ones is then known to have arrived, and is not
// reported as possibly lost. Counting from the newest keeps that right
// even when the Conn is also written to by someone the client does not
// track (an application heartbeat). A client takes a Confirmer at its
// word at the end too: a close this side made, even one Err reports as a
// close handshake, confirms nothing more (a WebSocket's answered close
// proves the peer read everything before it; HTTP polling's Close has no
// answer). A Conn without Confirmer is confirmed by the answers to pings,
// and by an answered close, as a WebSocket is: its Close returning nil
// says the peer answered (see Conn.Close), so a transport without a close
// handshake implements Confirmer, or its Close confirms what the peer
// never read. One that can neither ping nor confirm has what it writes
// reported possibly lost, in quarters of the client's record, as the
// record fills (tether.ErrUnconfirmable).
//
// Unconfirmed is safe from any goroutine and must not block.
type Confirmer interface {
	Unconfirmed() int
}

// ConfirmerOf returns the [Confirmer] of c: c itself when it implements
// Confirmer, otherwise that of the Conn it wraps (see [Wrapper]), and so on
// down the chain. It returns nil when no Conn in the chain implements it.
// Safe from any goroutine.
func ConfirmerOf(c Conn) Confirmer { return find[Confirmer](c) }
