package memory

import (
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/tether-go/tether/transport"
)

// Answer is how a [Server] answers one dial. The zero Answer is [Proceed].
// Build one with [Proceed], [Refuse], [Unreachable], [Fail] or [Hang], and
// queue it with [Server.Script] or make it the rule with [Server.SetDefault].
// An Answer is a plain value, safe to share between goroutines.
type Answer struct {
	kind   answerKind
	status int
	header http.Header
	body   string
	err    error
}

type answerKind uint8

const (
	answerProceed answerKind = iota
	answerRefuse
	answerFail
	answerHang
)

// Proceed answers a dial with a normal handshake: the dial completes when the
// server accepts it (at once with [WithAutoAccept]), provided a subprotocol
// can be agreed.
func Proceed() Answer { return Answer{} }

// Refuse answers a dial with an HTTP status instead of the protocol switch:
// Dial returns a [*transport.HandshakeError] carrying status, a copy of header
// and an excerpt of body (at most [transport.BodyExcerptLimit] bytes, invalid
// UTF-8 replaced). No [ServerConn] is made.
func Refuse(status int, header http.Header, body string) Answer {
	return Answer{kind: answerRefuse, status: status, header: header.Clone(), body: excerpt(body)}
}

// Unreachable answers a dial as a host with nothing listening: Dial returns
// a *net.OpError that matches syscall.ECONNREFUSED with errors.Is. No
// [ServerConn] is made.
func Unreachable() Answer { return Fail(nil) }

// Fail answers a dial with err, returned by Dial as it is. A nil err means
// the connection-refused error of [Unreachable]. No [ServerConn] is made.
func Fail(err error) Answer {
	return Answer{kind: answerFail, err: err}
}

// Hang answers a dial with a connection that never completes its handshake.
// Dial blocks until its ctx ends and then returns the ctx error. The server
// sees a [ServerConn] through [Server.Accept] (accepting it does not complete
// the dial), and that ServerConn ends with [ErrAbandoned] when the client gives
// up.
func Hang() Answer { return Answer{kind: answerHang} }

// refusedError is the error Unreachable answers with, made fresh per dial.
func refusedError() error {
	return &net.OpError{Op: "dial", Net: "memory", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

// excerpt trims body to transport.BodyExcerptLimit bytes of valid UTF-8.
func excerpt(body string) string {
	s := strings.ToValidUTF8(body, "\uFFFD")
	if len(s) <= transport.BodyExcerptLimit {
		return s
	}
	cut := transport.BodyExcerptLimit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
