// Package errtext bounds what tether's error texts quote of what a peer
// sent, for packages stream and rpc alike.
package errtext

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Cut returns s when it holds at most n bytes; otherwise its first n bytes
// at most, cut on a character boundary, followed by "...". The result does
// not share s's memory.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:CharStart(s, n)] + "..."
}

// CharStart returns the largest i <= n (and <= len(s)) at which cutting s
// does not split a character. It looks back at most utf8.UTFMax-1 bytes:
// continuation bytes further back belong to no valid character anyway.
func CharStart(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return i
		}
	}
	return n
}

// Codec is what an error text prints of a codec's error, at most n bytes.
// encoding/json's errors quote the payload they choke on (a number that
// overflows its field, the character a syntax error found, the text a
// number key failed to parse), so those are rephrased with the kind of
// value and its offset instead; any other error is cut to n bytes.
func Codec(err error, n int) string {
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
			target = "Go type " + te.Type.String()
		}
		return Cut("json: cannot decode a JSON "+Cut(kind, 16)+" into "+target+
			" (at byte "+strconv.FormatInt(te.Offset, 10)+")", n)
	case errors.As(err, &se):
		return "json: malformed JSON at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &ne):
		return Cut(ne.Func+": "+ne.Err.Error(), n)
	}
	return Cut(err.Error(), n)
}
