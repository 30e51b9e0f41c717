// Package errtext bounds what tether's error texts quote of what a peer
// sent, for packages stream and rpc alike, and of what a URL holds.
package errtext

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
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

// Codec is what an error text prints of a codec's error, at most n bytes,
// and it never quotes the payload. encoding/json's errors quote what they
// choke on (a number that overflows its field, the character a syntax
// error found, the text a number key failed to parse), and so do the
// errors of the types that decode themselves (time.Time quotes the text
// that is no time, a ",string" field the string): the errors whose fields
// say what went wrong without the input are rephrased from those fields
// (the kind of value, its offset, the Go type, the layout), and any other
// error is named by its Go type only, with a pointer to the error itself,
// for its text may quote the payload. safe, when not nil, names errors
// whose text holds none of the payload (a package's own sentinels): they
// are printed as they are, cut to n bytes.
func Codec(err error, n int, safe func(error) bool) string {
	var (
		te *json.UnmarshalTypeError
		se *json.SyntaxError
		ne *strconv.NumError
		pe *time.ParseError
		ie *json.InvalidUnmarshalError
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
	case errors.As(err, &pe):
		return Cut("time: a value does not parse as "+strconv.Quote(pe.Layout), n)
	case errors.As(err, &ie):
		return Cut(ie.Error(), n) // the Go type given to Unmarshal, not data
	case safe != nil && safe(err):
		return Cut(err.Error(), n)
	}
	return Cut("the codec's "+innermost(err)+" (its text may quote the payload: see Err)", n)
}

// innermost names the Go type of the error at the end of err's chain of
// single Unwraps (the one a wrapping codec started from).
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return fmt.Sprintf("%T", err)
		}
		err = next
	}
}

// URLFault says what url.Parse found wrong with a URL, as ": <fault>", or
// "" when it cannot say, without quoting the URL: url's own words quote
// the part at fault, which may be a password ("invalid port \":pw\" after
// host" for a password holding a '/').
func URLFault(err error) string {
	var (
		esc  url.EscapeError
		host url.InvalidHostError
	)
	switch msg := err.Error(); {
	case errors.As(err, &esc):
		return ": an invalid %-escape (write a literal % as %25)"
	case errors.As(err, &host):
		return ": an invalid character in the host"
	case strings.Contains(msg, "invalid port"):
		return ": an invalid port after the host (a password holding '/', '?' or '#' must escape it)"
	case strings.Contains(msg, "control character"):
		return ": a control character"
	}
	return ""
}
