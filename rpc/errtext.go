package rpc

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tether-go/tether/internal/errtext"
	"github.com/tether-go/tether/stream"
)

// maxErrText is the most bytes of a server's error message, or of a
// codec's or protocol's error (which may quote the payload), that the text
// of an error of this package holds: 256, as stream's DecodeError holds of
// a codec's error. What it quotes of a server's data or result is bounded
// by stream.MaxExcerpt (128). A longer text is cut on a character boundary
// and ends with "..."; the error's fields keep it whole.
const maxErrText = 256

// cutText is errtext.Cut: s, at most n bytes of it, cut on a character
// boundary and marked with "...".
func cutText(s string, n int) string { return errtext.Cut(s, n) }

// cutErr is a protocol's reason, at most maxErrText bytes of it,
// encoding/json's errors rephrased so as not to quote the payload
// (errtext.Codec); a protocol's own reasons are printed.
func cutErr(err error) string { return errtext.Codec(err, maxErrText, printed) }

// codecErr is a codec's error, at most maxErrText bytes about it, quoting
// nothing of the data: the errors errtext.Codec knows are rephrased, any
// other is named by its type.
func codecErr(err error) string { return errtext.Codec(err, maxErrText, nil) }

func printed(error) bool { return true }

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
