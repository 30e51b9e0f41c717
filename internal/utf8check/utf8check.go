// Package utf8check finds where a text payload stops being UTF-8, for the
// errors that refuse it (RFC 6455 forbids a text frame that is not valid
// UTF-8).
package utf8check

import "unicode/utf8"

// InvalidAt returns the offset of the first byte of p that is not valid
// UTF-8, or -1 when p is valid.
func InvalidAt(p []byte) int {
	if utf8.Valid(p) {
		return -1
	}
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}
