package websocket

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/tether-go/tether/transport"
)

// Bounds on the server's answer to the upgrade request, and on a proxy's
// answer to CONNECT: every byte of it that the server controls is counted
// as it is read. An answer past one of them fails the dial with an error
// matching [transport.ErrBadHandshake] that names the bound and its limit.
// The package documentation says why these values.
const (
	// MaxHandshakeLine is the longest status line or header line
	// accepted, its line end included: 16 KiB.
	MaxHandshakeLine = 16 << 10
	// MaxHandshakeHeaders is the most header lines accepted after the
	// status line.
	MaxHandshakeHeaders = 128
	// MaxHandshakeBytes bounds the status line and the header lines
	// together, up to and including the blank line that ends them: 64 KiB.
	MaxHandshakeBytes = 64 << 10
)

// bodyReadLimit is the most bytes read after the headers of a refused
// answer, for its body excerpt: room for transport.BodyExcerptLimit bytes
// with chunked framing, and for a read buffer's worth ahead of them.
const bodyReadLimit = 8 << 10

// errBodyLimit ends the read of a refused answer's body at bodyReadLimit.
// The excerpt keeps what was read; the error goes no further.
var errBodyLimit = errors.New("tether/websocket: read limit of a refused answer's body")

// dialState collects what one Dial learns before it fails: whether the
// connection (or proxy tunnel) was up, and the refused answer.
type dialState struct {
	connected atomic.Bool
	cut       *cutConn    // the connection dialled, set on the dialling goroutine
	answer    *answerConn // the connection the answer is read from, set by wrap

	// Set by onStatusError, on the dialling goroutine.
	status int
	header http.Header
	body   string
	plain  bool // the URL is ws:// or http://: no TLS
}

// wrap is gobwas's WrapConn hook: the handshake answer is read through an
// answerConn. Dial takes it off once the handshake succeeded.
func (s *dialState) wrap(c net.Conn) net.Conn {
	s.answer = &answerConn{Conn: c, plain: s.plain}
	return s.answer
}

// answerErr returns the bound the answer broke, or nil.
func (s *dialState) answerErr() error {
	if s.answer == nil {
		return nil
	}
	return s.answer.err
}

// onStatusError is gobwas's hook for an answer other than 101. It parses the
// headers and keeps an excerpt of the body. Reading the body is bounded by
// the dial deadline; a body cut short is kept as far as it arrived.
func (s *dialState) onStatusError(status int, _ []byte, resp io.Reader) {
	s.status = status
	r, err := http.ReadResponse(bufio.NewReader(resp), nil)
	if err != nil {
		return
	}
	s.header = r.Header
	s.body = readExcerpt(r.Body)
	// r.Body is not closed: closing it drains the rest of the body, which
	// could block until the deadline. The connection is closed by gobwas.
}

// handshakeError builds the typed error for a refused handshake. Its Err
// is the bound the answer broke, if it did: gobwas's StatusError would
// only repeat the status.
func (s *dialState) handshakeError() *transport.HandshakeError {
	err := s.answerErr()
	if s.status == 0 && s.answer != nil {
		// An HTTP/1.0 answer past a bound: gobwas read no status, the
		// status line has it (a 429 whose headers never end is a 429).
		s.status = statusLine(s.answer.start)
	}
	if err == nil && s.plain && s.status == http.StatusBadRequest && strings.Contains(s.body, "HTTPS") {
		// "Client sent an HTTP request to an HTTPS server." (Go), "The
		// plain HTTP request was sent to HTTPS port" (nginx).
		err = ErrWantsTLS
	}
	return &transport.HandshakeError{StatusCode: s.status, Header: s.header, Body: s.body, Err: err}
}

// unreadAnswer returns the typed error for an HTTP/1.0 answer, which
// gobwas rejects without its status (Go's HTTPS server refuses a plain
// request in HTTP/1.0), read here from the bytes answerConn kept for its
// status, headers and body; nil for any other answer. An HTTP/1.0 101
// breaks RFC 6455, which asks for HTTP/1.1. (A TLS record in answer to a
// plain dial failed answerConn's Read at once: see errTLSAnswer.)
func (s *dialState) unreadAnswer() error {
	if s.answer == nil {
		return nil
	}
	b := s.answer.start
	if !bytes.HasPrefix(b, []byte("HTTP/1.0 ")) {
		return nil
	}
	r, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		// Cut short, or malformed past its status line: the status is
		// still the server's word.
		if code := statusLine(b); code != 0 {
			return &transport.HandshakeError{StatusCode: code, Err: errUnparsedAnswer}
		}
		return nil
	}
	if r.StatusCode == http.StatusSwitchingProtocols {
		return &transport.HandshakeError{StatusCode: r.StatusCode, Header: r.Header,
			Err: fmt.Errorf("%w: a 101 answer in HTTP/1.0, not HTTP/1.1", transport.ErrBadHandshake)}
	}
	s.status, s.header, s.body = r.StatusCode, r.Header, readExcerpt(r.Body)
	return s.handshakeError()
}

// errUnparsedAnswer is the cause of an HTTP/1.0 refusal whose headers do
// not parse: its status decides, as for an HTTP/1.1 one.
var errUnparsedAnswer = errors.New("tether/websocket: an HTTP/1.0 answer that does not parse past its status line")

// statusLine returns the status of an answer starting "HTTP/1.0 NNN " (or
// "HTTP/1.0 NNN" at the line's end), NNN from 100 to 599, or 0.
func statusLine(b []byte) int {
	rest, ok := bytes.CutPrefix(b, []byte("HTTP/1.0 "))
	if !ok || len(rest) < 3 || len(rest) > 3 && rest[3] != ' ' && rest[3] != '\r' && rest[3] != '\n' {
		return 0
	}
	code := 0
	for _, c := range rest[:3] {
		if c < '0' || c > '9' {
			return 0
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || code > 599 {
		return 0
	}
	return code
}

// answerConn reads a handshake answer (the server's to the upgrade
// request, or a proxy's to CONNECT) from the connection under the bounds
// above. It scans the bytes as they pass: until the blank line that ends
// the headers it counts each line's length, the header lines and the
// total, and it never asks the connection for more than MaxHandshakeBytes
// in all; after that line, for bodyReadLimit bytes more at most. Past a
// bound, Read fails with the error kept in err. Writes and deadlines pass
// through, so the dial's deadline bounds every read.
//
// Only the dialling goroutine uses it, and only during the handshake.
type answerConn struct {
	net.Conn
	total int    // bytes read
	line  int    // bytes of the current line so far, its line end included
	cr    bool   // the last byte of the current line was '\r'
	lines int    // lines ended, the status line first
	head  int    // bytes up to and including the blank line; 0 until it is read
	err   error  // the bound broken, matching transport.ErrBadHandshake
	start []byte // the first answerKept bytes read, for unreadAnswer
	plain bool   // no TLS under it: an answer in TLS fails at once
}

// errTLSAnswer is the error of a plain connection whose answer is a TLS
// record.
var errTLSAnswer = fmt.Errorf("%w: %w", transport.ErrBadHandshake, ErrWantsTLS)

// tlsRecord reports whether b starts as a TLS alert or handshake record
// (TLS version 3.x).
func tlsRecord(b []byte) bool { return len(b) >= 2 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03 }

// answerKept is how much of the start of an answer is kept for
// unreadAnswer: a refusal's status line, headers and body excerpt.
const answerKept = 4 << 10

func (a *answerConn) Read(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	room := MaxHandshakeBytes - a.total
	if a.head > 0 {
		room = a.head + bodyReadLimit - a.total
	}
	if room <= 0 {
		if a.head > 0 {
			return 0, errBodyLimit
		}
		a.err = fmt.Errorf("%w: status line and headers longer than %d bytes",
			transport.ErrBadHandshake, MaxHandshakeBytes)
		return 0, a.err
	}
	if len(p) > room {
		p = p[:room]
	}
	n, err := a.Conn.Read(p)
	if keep := min(n, answerKept-len(a.start)); keep > 0 {
		a.start = append(a.start, p[:keep]...)
		if a.plain && len(a.start) >= 2 && len(a.start)-keep < 2 && tlsRecord(a.start) {
			// A TLS server: fail now, not at the dial timeout when it
			// keeps the connection open (a later outside review).
			a.err = errTLSAnswer
			return 0, a.err
		}
	}
	if a.head == 0 {
		// The bytes before a broken bound are returned (the status line
		// among them, so that a refusal keeps its status); the next Read
		// fails.
		var ok int
		if ok, a.err = a.scan(p[:n]); a.err != nil {
			n, err = ok, nil
			if n == 0 {
				err = a.err
			}
		}
	}
	a.total += n
	return n, err
}

// scan follows the lines of b, the bytes read after a.total, until the
// blank line that ends the headers. It returns the bound they break, if
// any, and how many bytes of b come before the break. A line ends at
// '\n', after an optional '\r', as gobwas and net/textproto read it.
func (a *answerConn) scan(b []byte) (int, error) {
	for i, c := range b {
		a.line++
		if a.line > MaxHandshakeLine {
			what := "header line"
			if a.lines == 0 {
				what = "status line"
			}
			return i, fmt.Errorf("%w: %s longer than %d bytes", transport.ErrBadHandshake, what, MaxHandshakeLine)
		}
		if c != '\n' {
			a.cr = c == '\r'
			continue
		}
		blank := a.line == 1 || (a.line == 2 && a.cr)
		a.line, a.cr = 0, false
		if blank && a.lines > 0 {
			a.head = a.total + i + 1
			return len(b), nil
		}
		a.lines++
		if a.lines-1 > MaxHandshakeHeaders {
			return i, fmt.Errorf("%w: more than %d header lines", transport.ErrBadHandshake, MaxHandshakeHeaders)
		}
	}
	return len(b), nil
}

// readExcerpt reads at most transport.BodyExcerptLimit bytes from r and
// returns them as valid UTF-8 no longer than the limit.
func readExcerpt(r io.Reader) string {
	buf := make([]byte, transport.BodyExcerptLimit)
	n, _ := io.ReadFull(r, buf)
	b := buf[:n]
	if n == len(buf) {
		// The body goes on: drop a rune cut in half by the limit.
		for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return excerpt(b)
}

// excerpt returns b as a string of valid UTF-8 (invalid bytes replaced by
// U+FFFD) of at most transport.BodyExcerptLimit bytes, cut on a rune
// boundary.
func excerpt(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if len(s) <= transport.BodyExcerptLimit {
		return s
	}
	cut := transport.BodyExcerptLimit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
