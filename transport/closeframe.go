package transport

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxCloseReason is the longest close reason that fits a control frame: 125
// bytes of payload less the 2-byte code.
const MaxCloseReason = 123

// ParseClose reads the payload of a close frame (RFC 6455 section 5.5.1).
// An empty payload means no status (1005). A 1-byte payload or a code that
// may not be sent gives an error wrapping ErrProtocol (answer with 1002); a
// reason that is not UTF-8 gives one wrapping ErrInvalidUTF8 (answer with
// 1007). The reason is copied.
func ParseClose(p []byte) (StatusCode, string, error) {
	switch {
	case len(p) == 0:
		return StatusNoStatusReceived, "", nil
	case len(p) == 1:
		return 0, "", fmt.Errorf("%w: close frame with a 1-byte payload", ErrProtocol)
	case len(p) > 2+MaxCloseReason:
		return 0, "", fmt.Errorf("%w: close frame of %d bytes, more than a control frame holds", ErrProtocol, len(p))
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !code.Sendable() {
		return 0, "", fmt.Errorf("%w: invalid close code %d", ErrProtocol, uint16(code))
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", fmt.Errorf("%w (close reason)", ErrInvalidUTF8)
	}
	return code, string(p[2:]), nil
}

// CloseReason makes reason fit a close frame: invalid UTF-8 is replaced
// and the result is cut at MaxCloseReason bytes on a rune boundary.
func CloseReason(reason string) string {
	r := strings.ToValidUTF8(reason, "\uFFFD")
	if len(r) > MaxCloseReason {
		cut := MaxCloseReason
		for cut > 0 && !utf8.RuneStart(r[cut]) {
			cut--
		}
		r = r[:cut]
	}
	return r
}

// AppendClose appends the payload of a close frame with code and reason,
// the reason made to fit by CloseReason. A code that may not be sent gives
// an empty payload.
func AppendClose(dst []byte, code StatusCode, reason string) []byte {
	if !code.Sendable() {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, CloseReason(reason)...)
}
