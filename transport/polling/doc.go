// Package polling is an HTTP polling transport behind the
// [transport.Transport] and [transport.Conn] port: a client built on the port
// cannot tell it from WebSocket, except by its [Transport.Name], "polling".
// It is the seed's "fallback to REST polling", and the fallback half of
// package transport/fallback.
//
// # Dial
//
// Dial turns the target URL into the poll URL (ws and wss become http and
// https, so the fallback composite can hand it the WebSocket target; see
// [WithPollPath] and [WithURLRewrite]) and sends one GET with the target's
// headers. A 2xx (or 304) answer is the handshake: the Conn is up, and the
// messages of that first answer are the first ones Read returns. Any other
// status fails the Dial with a [*transport.HandshakeError] carrying the
// status, the headers and an excerpt of the body, exactly as the WebSocket
// transport reports a refused upgrade, so the reconnect policy's HTTP-status
// rules and Retry-After apply unchanged.
//
// Redirects are never followed, by the transport's own HTTP client or by
// one passed to [WithHTTPClient] (the transport uses a copy of it whose
// CheckRedirect stops at the first answer; the client passed in is not
// modified): following one would carry the target's headers, credentials
// included, to a URL the caller did not name, perhaps over plain http. A
// 3xx answer (but 304) is a refusal like any other, as in the WebSocket
// transport: Dial fails with a [*transport.HandshakeError] carrying the
// status and matching [ErrRedirect], whose text names the Location without
// its query, and which the default reconnect policy does not retry; a poll
// fails; a send is a [*SendError]. Location and Content-Location are
// redacted with [transport.RedactURL] in the headers kept in these errors,
// and a redirect's body, which repeats the Location, is not kept: a server
// that redirects often echoes the request's URL, token included. A server certificate that fails
// verification (https and wss) gives an error matching
// [transport.ErrCertificate], with the crypto/tls and crypto/x509 errors in
// its chain, as in the WebSocket transport: the default reconnect policy
// gives up on it.
//
// # Wire format
//
// Every request carries the target's headers (credentials included), plus:
//
//   - Accept: application/json, in the [JSONArray] format, unless the target
//     sets Accept.
//   - If-None-Match and If-Modified-Since, from the ETag and Last-Modified of
//     the last answer that had them. A server may use the ETag as a cursor:
//     the client echoes the position it has reached.
//   - Prefer: wait=<seconds> in long-poll mode ([WithLongPoll], RFC 7240).
//   - The offered subprotocols, comma-separated, in Sec-WebSocket-Protocol
//     (see [WithSubprotocolHeader]); Dial's answer must name one of them in
//     the same header.
//
// Answers to a poll:
//
//   - 200 with a body: new messages. In the [JSONArray] format (the default)
//     the body is a JSON array, and each element is one Text message whose
//     payload is the element's raw JSON, for example [{"cpu":0.4},"hello",3]
//     gives three messages: {"cpu":0.4}, "hello" and 3. In the [WholeBody]
//     format the body is one message, Text for textual content types and
//     Binary otherwise. An empty body is nothing new, and so is one of
//     JSON white space (space, tab, CR, LF) in the JSONArray format; in
//     WholeBody any other body is a message.
//   - 204 No Content and 304 Not Modified: nothing new.
//   - 401 and 403: the Conn ends at once with close code 1008, since the
//     credentials of a Conn do not change; the client dials again with fresh
//     ones.
//   - A redirect (3xx but 304): a failed poll; it is not followed.
//   - Anything else, a network error or a request timeout: a failed poll.
//
// Every answer's head (status line and headers) is checked against the
// WebSocket transport's bounds before anything keeps it: [MaxHeaderLine]
// (16 KiB a line), [MaxHeaderLines] (128 header lines) and
// [MaxHeaderBytes] (64 KiB in all); the client the transport builds reads
// no more than 64 KiB of it. An answer past a bound is not used and none
// of its headers is kept: it fails Dial with a [*transport.HandshakeError]
// matching [transport.ErrBadHandshake] that names the bound (with the
// status when net/http read one, so a 503 with megabytes of headers is a
// 503 and a bad handshake), which the default reconnect policy gives up
// on; it is a failed poll (same error), and a refused send whose
// [*SendError] keeps no header.
//
// A 200 body that is not a JSON array (in that format) ends the Conn with
// close 1002 and [transport.ErrProtocol], a text message that is not UTF-8
// with 1007 and [transport.ErrInvalidUTF8], a body above [WithMaxBodySize]
// with 1009 and [transport.ErrMessageTooLarge], as the WebSocket transport
// does for the same faults. In Dial these fail the handshake instead.
//
// Sends, when [WithSendPath] turns them on, are one POST per message, the
// payload as the body, with Content-Type application/json for Text in the
// JSONArray format, text/plain; charset=utf-8 for Text in the WholeBody
// format, and application/octet-stream for Binary. POSTs go one at a time,
// in the order Write calls got their turn. A 2xx answer is success; another
// status is a [*SendError], and the Conn stays up. Write's ctx bounds the
// caller's wait, not the POST: a ctx that ends before the POST starts sends
// nothing and Write returns its error; once the POST has started, Write
// returns nil when ctx ends and the POST is finished in the background,
// as the WebSocket transport finishes a message it has begun (the next
// Write waits for it; if it then fails, nobody is left to tell, so the
// Conn ends with 1006 wrapping the failure). Without WithSendPath,
// Write returns [ErrSendNotConfigured], which matches
// [transport.ErrUnsupported].
//
// # Timing and failures
//
// Short polls (the default) come every [WithInterval] ([DefaultInterval],
// 1 s) after the previous answer. In long-poll mode the next poll starts as
// soon as an answer with messages is in; an empty answer that came back
// sooner than the interval waits out the rest of it, so a server that
// ignores the wait is not polled in a hot loop.
//
// A failed poll is retried after a backoff: [DefaultBackoffMin] (1 s)
// doubling per failure in a row up to [DefaultBackoffMax] (30 s), each wait
// drawn from the upper half of its value, so clients that failed together do
// not come back together. A Retry-After in the failed answer (429, 503, or
// any other status) replaces the backoff, capped at [DefaultMaxRetryAfter].
// After [DefaultMaxFailures] (5) failures in a row the Conn ends with close
// 1006 wrapping a [*PollError] whose Err is the last failure (a
// [*transport.HandshakeError] for an HTTP status), so the client's reconnect
// policy runs and sees the status and Retry-After: a Conn that never ended
// would hide an outage.
//
// The waits run on the clock of [WithClock], so tests step through them with
// tethertest.FakeClock and never sleep. HTTP requests are bounded by
// [WithRequestTimeout] in real time, like any network deadline.
//
// # Heartbeat
//
// HTTP has no ping frame, but Ping works: it asks the poller to poll at once
// (unless it is backing off), and the first poll that starts after the Ping
// and succeeds (a 304 counts) makes Read return a [transport.Pong]. So the
// client's default ping-frame heartbeat keeps working across a fallback to
// polling, and a server that stops answering polls fails it, as a dead
// WebSocket peer would. In long-poll mode the pong comes with the answer to
// the poll in flight: keep the long-poll wait below the heartbeat's pong
// timeout, or use the application-message heartbeat, or turn it off.
//
// # Close
//
// Polling has no close handshake. Close stops polling, aborts the requests
// in flight and reports a [*transport.CloseError] with the given code and
// reason (Remote false), for sendable and unsendable codes alike: every
// Close is an abort, and nothing is sent to the server.
//
// # Goroutines and memory
//
// Each Conn runs one poller goroutine, from Dial to the end of the Conn;
// Close returns once it has returned. The poller hands each answer's
// messages to the reader and fetches the next answer only while the reader
// still works through the previous one, so at most two answers are held,
// each at most [WithMaxBodySize] of body and [MaxHeaderBytes] of head. Payloads returned by Read are borrowed, as
// the [transport.Conn] contract says.
//
// # Concurrency
//
// [Transport] is safe for concurrent use. Its Conns follow the
// [transport.Conn] contract: one reader, any number of writers and pingers,
// Close from anywhere.
package polling
