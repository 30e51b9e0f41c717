package stream

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// codecErrorText is what [DecodeError.Error] prints of a codec's error.
// encoding/json's errors quote the payload they choke on (a number that
// overflows its field, the character a syntax error found, the text a
// number key failed to parse), so those are rephrased with the kind of
// value and its offset instead; any other error is cut to maxErrText
// bytes.
func codecErrorText(err error) string {
	var (
		te *json.UnmarshalTypeError
		se *json.SyntaxError
		ne *strconv.NumError
	)
	switch {
	case errors.As(err, &te):
		kind, _, _ := strings.Cut(te.Value, " ") // "number 1e999" is a number
		target := "a Go value"
		if te.Type != nil {
			target = "Go type " + cutText(te.Type.String(), MaxExcerpt)
		}
		return "json: cannot decode a JSON " + cutText(kind, 16) + " into " + target +
			" (at byte " + strconv.FormatInt(te.Offset, 10) + ")"
	case errors.As(err, &se):
		return "json: malformed JSON at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &ne):
		return ne.Func + ": " + ne.Err.Error()
	}
	return cutText(err.Error(), maxErrText)
}
