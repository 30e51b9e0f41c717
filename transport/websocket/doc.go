// Package websocket is the WebSocket client transport of tether, over
// github.com/gobwas/ws. [New] returns a [*Transport] whose Dial gives a
// [transport.Conn]; it is usable on its own, without the rest of tether.
//
//	tr, err := websocket.New(websocket.WithDialTimeout(10 * time.Second))
//	...
//	conn, err := tr.Dial(ctx, transport.Target{URL: "wss://feed.example/live"})
//	...
//	m, err := conn.Read() // m.Payload is borrowed until the next Read
//
// # Defaults
//
//   - Dial timeout 20 s ([DefaultDialTimeout], like gRPC's minimum connect
//     timeout): it bounds the TCP connect, the proxy tunnel, the TLS
//     handshake and the WebSocket handshake together. A shorter deadline on
//     the Dial context applies too. Running out gives an error matching
//     [transport.ErrTimeout] (a [*transport.TimeoutError] with phase "dial"
//     before the connection is up, "handshake" after); a context that ends
//     gives its own error instead.
//   - Close timeout 5 s ([DefaultCloseTimeout]): how long Close waits for its
//     turn to write the close frame and then for the peer's answer, and how
//     long a connection this side failed (1002, 1007, 1009) waits in the
//     background for the peer to hang up; the Read that found the fault
//     returns at once.
//   - Inbound message limit 16 MiB ([DefaultMaxMessageSize]), after
//     fragments are joined, and the same limit per frame unless
//     [WithMaxFrameSize] sets a smaller one. The declared length of a frame
//     is checked before any of it is read, so a hostile length costs
//     nothing. Outbound messages are not limited.
//   - A write buffer of 64 KiB ([DefaultWriteBufferSize]), held only while
//     frames wait to be written, and a read buffer of 16 KiB
//     ([DefaultReadBufferSize]), held only while bytes wait to be read; a
//     connection that cannot park its read buffer (TLS, a custom
//     connection that is not a socket) keeps one of 4 KiB
//     ([DefaultBufferSize]) instead. The
//     message buffer grows with the messages received, at least doubling
//     while fragments keep coming (reassembly is linear), and is kept up to
//     256 KiB; a larger message uses a buffer that is dropped at the next
//     Read, so an idle connection does not pin it.
//   - No idle read timeout: the heartbeat (WebSocket pings, see the adapters
//     package) is the normal way to find a dead peer. [WithReadTimeout]
//     adds one.
//   - TLS verification is on, against the system roots, unless the config
//     given to [WithTLSConfig] says otherwise; RootCAs there trusts a
//     private CA.
//   - Proxy from the environment ([http.ProxyFromEnvironment]): HTTPS_PROXY
//     for wss, HTTP_PROXY for ws, NO_PROXY honoured, loopback never
//     proxied. net/http reads these variables once per process. http:// and
//     https:// proxies are used through CONNECT, with credentials from the
//     proxy URL sent as Proxy-Authorization; [WithProxy] replaces the
//     choice and WithProxy(nil) dials directly.
//
// # Dialling
//
// Target.URL may use ws, wss, http or https (taken as ws and wss). A URL
// that does not parse, has another scheme or no host gives a [*URLError]
// matching [ErrBadURL]. Credentials in the URL's userinfo are sent as basic
// authorization unless Target.Header sets Authorization. Target.Header is
// sent with the handshake, except the headers the handshake owns (Upgrade,
// Connection, Sec-WebSocket-*); a Host header there replaces the URL's.
//
// Every error string this package builds shows the URL through
// [transport.RedactURL]: userinfo and token-like query parameters (token,
// access_token, key, signature and the like) never appear in it.
//
// # Errors of Dial
//
// Dial's errors are typed, for errors.Is and errors.As; the ones marked
// "not retried" are in the default reconnect policy's terminal errors,
// because retrying meets the same server with the same answer:
//
//   - A bad URL gives a [*URLError]; a subprotocol or header that cannot
//     go into the request as it is (see [transport.Target.Check]: a CR or
//     LF would write headers of its own) an error matching
//     [transport.ErrBadTarget], before anything is dialed. Not retried.
//   - A refused handshake (any status other than 101, including a plain
//     HTTP server's 200) gives a [*transport.HandshakeError] with the
//     status, the headers (Retry-After among them) and up to
//     [transport.BodyExcerptLimit] bytes of the body. A proxy that refuses
//     the tunnel gives one that also matches [ErrProxy].
//   - A 101 answer that breaks the protocol matches
//     [transport.ErrBadHandshake] (not retried), in a HandshakeError of
//     status 101 ("handshake failed") whose text names the header: a
//     Sec-WebSocket-Accept missing
//     or not derived from the key sent, an Upgrade header missing or not
//     "websocket", a Connection header missing or not "Upgrade", a
//     Sec-WebSocket-Extensions header selecting an extension that was not
//     offered (none is, unless [WithCompression] offers permessage-deflate),
//     a Sec-WebSocket-Protocol header naming a subprotocol that was not
//     offered (that one matches [transport.ErrSubprotocol] too).
//   - An answer past one of the bounds below matches
//     [transport.ErrBadHandshake] (not retried), in a HandshakeError that
//     keeps the status when the answer had one; its text names the bound
//     and the limit.
//   - When Target.Subprotocols is not empty and the server selects none of
//     them, the error matches [transport.ErrSubprotocol].
//   - A server certificate that fails verification (unknown authority,
//     wrong host name, expired), of the server or of an https proxy,
//     matches [transport.ErrCertificate] (not retried); the crypto/tls
//     error stays in the chain, so errors.As finds the
//     *tls.CertificateVerificationError and the crypto/x509 error in it.
//   - A server that closes the connection during the handshake (before
//     the end of a 101 answer, or during TLS) gives an error matching
//     [ErrHandshakeCut] and [io.ErrUnexpectedEOF]: a server restarting
//     does this, and a retry is right.
//   - Any other malformed or non-WebSocket answer gives a HandshakeError of
//     status 0; running out of time gives a [*transport.TimeoutError] (see
//     Defaults); network errors keep their type (*net.OpError).
//
// # Bounds on the handshake answer
//
// Every byte of the answer that the server controls is counted as it is
// read, after TLS, before gobwas or net/http parse it, for the 101 answer,
// for a refusal and for a proxy's answer to CONNECT alike:
//
//   - the status line and each header line: at most [MaxHandshakeLine]
//     bytes (16 KiB), line end included;
//   - at most [MaxHandshakeHeaders] header lines (128);
//   - the status line and the headers together, blank line included: at
//     most [MaxHandshakeBytes] (64 KiB); the connection is never asked for
//     more before the headers end;
//   - a refusal's body: [transport.BodyExcerptLimit] bytes kept, and no
//     more than 8 KiB read after the headers, chunked framing included.
//
// So a dial holds at most about 64 KiB of the server's answer whatever
// the server sends, and a server whose answer never ends fails it as soon
// as the bound is passed, not at the dial timeout. The values leave room
// for what real servers send: a proxy such as nginx refuses an upstream
// answer whose headers exceed its 4 or 8 KiB buffer, Node.js's HTTP client
// accepts 16 KiB of headers, and Apache accepts 100 header fields of 8
// KiB at most in a request. net/http's client accepts 10 MiB, which bounds memory but
// lets a hostile server hold a dial for the whole timeout. The TLS
// handshake is bounded by crypto/tls (records of 16 KiB, certificate
// chains of 256 KiB at most). The dial timeout bounds every read of the
// handshake, the refusal's body included.
//
// # Reading
//
// Read returns Text and Binary messages, joined from their fragments, with
// a payload borrowed until the next Read: in the steady state a Read
// allocates nothing. A message the read buffer holds whole is not copied at
// all: its payload is a slice of that buffer, which is not refilled before
// the next Read (a Close reading ahead meanwhile reads into another
// buffer); a message that is not (a large one, a fragmented one) is read
// into a message buffer the next Read reuses. It also returns control frames: a [transport.Ping]
// after its pong has been written or queued, and a [transport.Pong]. Text is
// checked as UTF-8 fragment by fragment. What breaks the protocol (a reserved
// opcode, RSV bits, a masked frame, a bad control frame, a close frame with a
// 1-byte payload or a code that may not be sent) makes this side send close
// 1002 and end with a [*transport.CloseError] wrapping
// [transport.ErrProtocol]; an oversized message gives 1009 and
// [transport.ErrMessageTooLarge]; invalid UTF-8 gives 1007 and
// [transport.ErrInvalidUTF8]. A close frame from the peer is answered with
// the same code and ends the connection with a remote *CloseError.
//
// A connection implements [transport.Backlogger]: Buffered, which the
// reader goroutine calls between Reads, says true when the next frame is
// all in the read buffer and Read will return it as it is (a ping, a pong,
// or a whole message in one frame, checked like Read checks it), or when
// the connection has ended. After the first call, each Read looks at the
// frame that follows its message before it returns, so Buffered costs no
// lock. It also implements [transport.ProgressReporter]: ReadProgress, from
// any goroutine, reports the bytes read from the connection so far (after
// TLS, for wss) and whether a Read, or Close reading the peer's answer, is
// waiting for the network.
//
// A connection that fails without a close handshake (a reset, EOF, an idle
// read timeout, a failed write) ends with a *CloseError of code 1006
// ([transport.StatusAbnormalClosure]) whose Err is the cause, so
// [transport.CloseCode] reports 1006 and errors.Is still finds the network
// error (or [transport.ErrTimeout] for the idle read timeout).
//
// # Writing
//
// Every frame, whoever sends it (Write, Ping, the pong the reader owes, a
// close frame), goes through one writer per connection, in the order it was
// accepted. The writer is a queue, not a lock: Write encodes its frame and
// masks a copy of the payload into a pending buffer under a mutex (the
// caller's bytes are never modified, nor kept), and no I/O ever happens
// under that mutex. One goroutine at a time writes to the network, a batch
// per write system call, while the others keep queueing:
//
//   - On a quiet connection, a Write writes its frame itself and returns
//     after it: a lone message costs one write and no goroutine switch.
//   - While another goroutine is writing, a Write queues its frame and
//     returns at once; the frame leaves with the next batch.
//   - When other writers are busy at the same time, or the same caller
//     comes back sooner after the last write than that write took (a loop
//     sending back to back), a Write queues its frame, starts a short-lived
//     flushing goroutine and returns. That goroutine writes batches until
//     nothing is queued, then ends.
//
// So messages sent from many goroutines, or in a burst from one, leave in
// one write system call per batch of up to half the write buffer
// ([WithWriteBufferSize]: it is split in two halves, one filling while the
// other is written). A message larger than a half is streamed in chunks by
// the goroutine writing to the network, after the frames queued before it.
// An idle connection has no writer goroutine.
//
// A nil error from Write or Ping therefore means the frame was accepted:
// written, queued in order to be written next, or committed while it was
// being written (see below). If the network write of its batch fails, the
// connection ends (Err reports a [*transport.CloseError] of code 1006 with
// the cause, and Read returns it); over TCP a written frame is not a
// delivered one either, so an application that must know uses a reply or
// a ping after it (the outbound buffer of the adapters package confirms
// writes that way).
//
// Write's ctx bounds the caller's wait, never the connection; it is not a
// write deadline:
//
//   - When ctx ends before the frame is accepted (while Write waits for
//     room, the pending half being full, which is the backpressure bound;
//     while it waits for its turn to stream a large message; or while it
//     writes the frames queued before its own), Write returns an error
//     matching ctx.Err(), and nothing of the message is ever written.
//   - When ctx ends after (the frame is in the batch being written, or a
//     large message has started going out), the message is committed:
//     Write returns nil at once, without waiting for the network, and a
//     short-lived flushing goroutine finishes it, with no deadline, before
//     the frames queued after it. The connection stays up for every other
//     writer.
//
// To return while a write is blocked on a peer that reads slowly, Write
// sets the write deadline of the connection in the past; the bytes that
// write had not sent are kept and go out first, so the stream stays whole,
// under TLS too (the cut is made under TLS, which sees a write that
// succeeded). Only then is a large message copied, the part not yet
// written, since the caller's payload is not kept. A ctx that ends never
// fails the connection: only a network error does.
//
// Queued and committed frames are written with no deadline: a peer that
// stops reading is detected by the heartbeat, whose abort closes the
// socket, and the writers that find the queue full wait under their ctx.
// Write and Ping on a connection that is closing or has ended return an
// error matching [transport.ErrClosed]: that error means nothing of the
// message was queued or written. A Write that was writing to the network
// when the write failed returns the network error (matching neither
// ctx.Err() nor ErrClosed): some of the message may have been written, and
// the connection has ended.
//
// The reader never writes and never waits for the writer: a pong it owes is
// queued (when the queue is full, it waits beside it, and only the latest
// ping is answered, as RFC 6455 allows) and, when nobody is writing, a
// short-lived goroutine writes it.
//
// # Compression
//
// [WithCompression] offers permessage-deflate (RFC 7692); it is off by
// default. A server that declines leaves the connection uncompressed, and
// [CompressionOf] reports what a server accepted ([Negotiated]). The zero
// [Compression] is the recommended offer:
//
//   - The server may keep its compression context between messages: the
//     small, similar messages of a feed compress several times better
//     that way. The cost is the window the client keeps to inflate them:
//     the last 2^server_max_window_bits bytes inflated, 32 KiB at most,
//     per connection, for as long as it is open. ServerNoContextTakeover
//     asks the server not to (the client then keeps nothing between
//     messages); ServerMaxWindowBits asks for a smaller window.
//   - The client compresses each message on its own
//     (client_no_context_takeover), with a compress/flate writer borrowed
//     from a pool for the call: a writer that keeps its context costs
//     about 1.2 MB per connection in Go, too much for the many idle
//     connections a client may hold. ClientContextTakeover turns it on.
//   - Outbound messages shorter than [DefaultCompressionThreshold] (128
//     bytes) go out uncompressed, the others at [DefaultCompressionLevel]
//     (flate.BestSpeed). [WriteUncompressed] sends one message
//     uncompressed whatever its size: for a payload already compressed.
//   - client_max_window_bits is offered, so a server may limit the
//     client's window; compress/flate always uses 32 KiB, so the client
//     then compresses only the messages that fit in the window, each on
//     its own, and sends the others uncompressed.
//
// Inbound, the size limit applies to the inflated message as it is
// inflated: past it, inflating stops and the connection closes with 1009,
// so a frame that would inflate to gigabytes costs the limit's worth of
// work and memory at most (the buffer doubles on its way to the limit). The
// compressed bytes of a message are limited too (the message limit, plus
// 1 in 1,024 and 64 bytes for deflate's own framing). Fragments of a
// compressed message are kept compressed until the last one, which is
// inflated as it is read; control frames between them are read and
// answered as usual. Deflate data that does not inflate closes the
// connection with 1007 and an error matching [ErrInflate]. RSV1 on a
// control frame or on a continuation frame, RSV2 or RSV3, and RSV1 on a
// connection without the extension close it with 1002
// ([transport.ErrProtocol]). An answer that accepts the extension with
// parameters the offer does not allow (a larger server window than
// offered, server_no_context_takeover missing when asked for,
// client_max_window_bits without a value, an unknown or repeated
// parameter, the extension twice) fails the dial with
// [transport.ErrBadHandshake].
//
// # Closing
//
// Close(code, reason) sends the close frame after the writes already under
// way, waits for the peer's close frame (through the pending Read if there
// is one, otherwise by reading ahead itself), then closes the socket; the
// close timeout bounds all of it. A code that may not be sent, such as
// 1006, aborts: the socket is closed at once, without a close frame.
//
// The data messages the peer sends before its answer are not lost: a
// reader that keeps calling Read gets them, in order, then the end. While
// the reader is away (handing a message on, say), Close reads ahead and
// keeps them for it, up to 1 MiB (or one larger message), which the Reads
// return even after Close has returned. Past that, Close waits for the
// reader to take them, within the close timeout; only on a connection
// whose Read was never called, and whose ExpectReader was not either
// ([transport.ReaderExpecter]: a reader is coming), does it throw the rest
// away, and then it counts them: the Conn is a [transport.DiscardCounter].
// The tether client calls ExpectReader as each connection opens.
//
// # Concurrency contract
//
// A Transport is safe for concurrent use. On a connection, one goroutine at a
// time may call Read; Write and Ping may be called from any number of
// goroutines; Close, Done, Err, Subprotocol and ReadProgress from any
// goroutine at any time; Buffered from the reading goroutine, between
// Reads. A connection starts no goroutine of its own, so an idle one costs
// the caller's reader goroutine and nothing else. The exception is short:
// while queued frames (or a pong the reader owes, or the rest of a message
// whose Write returned when its ctx ended) wait to go out, one flushing
// goroutine may write them, and it ends when nothing is queued; and a
// connection this side failed has one goroutine that sends the close frame
// and drains the input until the peer hangs up, ending within the close
// timeout or at Close. Close waits for both.
package websocket
