package websocket

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/tether-go/tether/transport"
)

// dialState collects what one Dial learns before it fails: whether the
// connection (or proxy tunnel) was up, and the refused answer.
type dialState struct {
	connected atomic.Bool
	cut       *cutConn // the connection dialled, set on the dialling goroutine

	// Set by onStatusError, on the dialling goroutine.
	status int
	header http.Header
	body   string
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

// handshakeError builds the typed error for a refused handshake. It has no
// Err: gobwas's StatusError would only repeat the status.
func (s *dialState) handshakeError() *transport.HandshakeError {
	return &transport.HandshakeError{StatusCode: s.status, Header: s.header, Body: s.body}
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
