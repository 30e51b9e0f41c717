package rpc

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tether-go/tether/stream"
)

// maxErrText is the most bytes of a server's error message, or of a
// codec's or protocol's error (which may quote the payload), that the text
// of an error of this package holds: 256, as stream's DecodeError holds of
// a codec's error. What it quotes of a server's data or result is bounded
// by stream.MaxExcerpt (128). A longer text is cut on a character boundary
// and ends with "..."; the error's fields keep it whole.
const maxErrText = 256

// cutText returns s when it holds at most n bytes; otherwise its first n
// bytes at most, cut on a character boundary, followed by "...". The
// result does not share s's memory.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "..."
		}
	}
	return s[:n] + "..."
}

// cutErr is err's text, at most maxErrText bytes of it.
func cutErr(err error) string { return cutText(err.Error(), maxErrText) }

// quoteCut is s quoted, at most stream.MaxExcerpt bytes of it, with "..."
// after the closing quote when cut.
func quoteCut(s string) string {
	cut := cutText(s, stream.MaxExcerpt)
	if len(cut) == len(s) {
		return strconv.Quote(s)
	}
	return strconv.Quote(strings.TrimSuffix(cut, "...")) + "..."
}

// cutData is a server's data or result, at most stream.MaxExcerpt bytes of
// it (converting no more of p than it needs).
func cutData(p []byte) string {
	p = p[:min(len(p), stream.MaxExcerpt+utf8.UTFMax)]
	return cutText(string(p), stream.MaxExcerpt)
}
