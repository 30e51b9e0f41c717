package transport

import (
	"fmt"
	"net/textproto"
)

// Check reports whether t's Subprotocols and Header can go into an HTTP
// handshake request as they are: every subprotocol a non-empty token
// (RFC 6455 section 4.1, the tchar of RFC 9110 section 5.6.2) offered
// once, every header name a token, and no header value holding a control
// character other than a tab. A CR or LF would end the header line early
// and let the rest of the value write headers of its own.
//
// The error matches [ErrBadTarget], so the default reconnect policy gives
// up instead of retrying the same request. It names a subprotocol by its
// position and a header by its name (a name that is not a token by its
// length), and never quotes a value: either may be a credential (a bearer
// token offered as a subprotocol, say).
//
// The Client checks every target before its transport dials; a transport
// that writes its own HTTP request may call Check in Dial too.
func (t Target) Check() error {
	seen := make(map[string]bool, len(t.Subprotocols))
	for i, p := range t.Subprotocols {
		switch {
		case p == "":
			return fmt.Errorf("%w: subprotocol %d of %d is empty", ErrBadTarget, i+1, len(t.Subprotocols))
		case !isToken(p):
			return fmt.Errorf("%w: subprotocol %d of %d is not a token (RFC 6455 section 4.1: no spaces, commas, quotes or control characters)",
				ErrBadTarget, i+1, len(t.Subprotocols))
		case seen[p]:
			return fmt.Errorf("%w: subprotocol %d of %d repeats an earlier one", ErrBadTarget, i+1, len(t.Subprotocols))
		}
		seen[p] = true
	}
	for name, values := range t.Header {
		// A name that is not a token is not quoted: one made by mistake
		// from a value ("X-Key: secret") would carry the secret into a log.
		if name == "" {
			return fmt.Errorf("%w: a header name is empty", ErrBadTarget)
		}
		if at := notTokenAt(name); at >= 0 {
			return fmt.Errorf("%w: a header name of %d bytes is not a token (byte %d is a space, a delimiter or a control character)",
				ErrBadTarget, len(name), at)
		}
		for _, v := range values {
			if at := controlAt(v); at >= 0 {
				return fmt.Errorf("%w: the value of header %s holds a control character at byte %d (a tab is the only one a header value may hold)",
					ErrBadTarget, textproto.CanonicalMIMEHeaderKey(name), at)
			}
		}
	}
	return nil
}

// isToken reports whether s is a non-empty token of RFC 9110: visible
// ASCII except the delimiters "(),/:;<=>?@[\]{}.
func isToken(s string) bool { return s != "" && notTokenAt(s) < 0 }

// notTokenAt returns the index of the first byte of s that a token may
// not hold, or -1.
func notTokenAt(s string) int {
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return i
		}
	}
	return -1
}

func isTchar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	switch b {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// controlAt returns the index of the first byte of v that may not appear
// in a header value (a control character other than a tab, or DEL), or
// -1. Bytes of 0x80 and above (obs-text) are allowed, as net/http allows
// them.
func controlAt(v string) int {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < 0x20 && b != '\t') || b == 0x7f {
			return i
		}
	}
	return -1
}
