package polling

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tether-go/tether/transport"
)

// Bounds of the head of an answer (its status line and headers), the
// WebSocket transport's bounds of a handshake answer
// (websocket.MaxHandshakeLine, MaxHandshakeHeaders, MaxHandshakeBytes).
// Every answer, to Dial, a poll or a send, is checked against them before
// anything keeps its headers; an answer past one is not used (see
// [Transport.Dial]). The lengths are those of the lines as net/http parsed
// them: "Name: value" and the line end.
const (
	// MaxHeaderLine is the longest status line or header line, line end
	// included: 16 KiB.
	MaxHeaderLine = 16 << 10
	// MaxHeaderLines is the most header lines: 128.
	MaxHeaderLines = 128
	// MaxHeaderBytes bounds the status line and the header lines
	// together, the blank line included: 64 KiB. The HTTP client the
	// transport builds reads no more than this of an answer's head
	// (http.Transport.MaxResponseHeaderBytes).
	MaxHeaderBytes = 64 << 10
)

// checkHead returns an error matching [transport.ErrBadHandshake] that
// names the bound resp's head is past, or nil.
func checkHead(resp *http.Response) error {
	line := len(resp.Proto) + 1 + len(resp.Status) + 2
	if line > MaxHeaderLine {
		return fmt.Errorf("%w: status line longer than %d bytes", transport.ErrBadHandshake, MaxHeaderLine)
	}
	total, lines := line+2, 0
	for k, vs := range resp.Header {
		for _, v := range vs {
			n := len(k) + 2 + len(v) + 2
			if n > MaxHeaderLine {
				return fmt.Errorf("%w: header line longer than %d bytes", transport.ErrBadHandshake, MaxHeaderLine)
			}
			if lines++; lines > MaxHeaderLines {
				return fmt.Errorf("%w: more than %d header lines", transport.ErrBadHandshake, MaxHeaderLines)
			}
			total += n
		}
	}
	if total > MaxHeaderBytes {
		return headTooLong()
	}
	return nil
}

func headTooLong() error {
	return fmt.Errorf("%w: status line and headers longer than %d bytes", transport.ErrBadHandshake, MaxHeaderBytes)
}

// newHTTPClient returns the client of a transport made without
// [WithHTTPClient]: over a clone of [http.DefaultTransport] (proxies from
// the environment, TLS verified) that reads at most MaxHeaderBytes of an
// answer's head. When http.DefaultTransport is not an *http.Transport (a
// program replaced it), the client uses it as it is, and only what is kept
// of an answer is bounded.
func newHTTPClient() *http.Client {
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &http.Client{}
	}
	t := dt.Clone()
	t.MaxResponseHeaderBytes = MaxHeaderBytes
	return &http.Client{Transport: t}
}

// headLimitText is the text of the error net/http's HTTP/1 client returns
// for an answer whose head is longer than the MaxResponseHeaderBytes of
// the client newHTTPClient builds. net/http gives it no type (transport.go,
// the same text since Go 1.7), so it is recognised by its exact text;
// TestHugeAnswerHeadIsABadHandshake fails if that ever changes, and the
// answer is then reported as a network error.
var headLimitText = fmt.Sprintf("net/http: server response headers exceeded %d bytes; aborted", MaxHeaderBytes)

// pastHeadLimit reports whether err, or an error it wraps, is net/http's
// for an answer past MaxHeaderBytes.
func pastHeadLimit(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == headLimitText {
			return true
		}
	}
	return false
}
