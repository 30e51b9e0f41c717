package polling

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tether-go/tether/transport"
)

// decodeError says how a body that cannot be delivered ends the Conn.
type decodeError struct {
	code transport.StatusCode
	err  error
}

// batch is the messages of one answer, handed to Read one at a time: the
// elements of a JSON array, then msgs (a WholeBody answer's message, a
// Pong). The elements are found as Read asks for them, in the body itself,
// so an answer costs its body however many elements it holds: a body of
// millions of tiny elements is not turned into millions of values at once.
type batch struct {
	elems []byte              // the rest of an array checked whole: after its '[' or after an element; nil when done
	msgs  []transport.Message // what follows the elements
}

// empty reports whether b has no message left: elems is after '[' or
// after an element, so what follows its white space is ']' at the end,
// and a ',' or an element otherwise (nothing needs scanning).
func (b *batch) empty() bool {
	if len(b.msgs) > 0 {
		return false
	}
	i := skipSpace(b.elems, 0)
	return i == len(b.elems) || b.elems[i] == ']'
}

// next returns the next message, or false when none is left. The payload
// of an element is a slice of the answer's body.
func (b *batch) next() (transport.Message, bool) {
	if b.elems != nil {
		if e, rest, ok := nextElement(b.elems); ok {
			b.elems = rest
			return transport.Message{Type: transport.Text, Payload: e}, true
		}
		b.elems = nil
	}
	if len(b.msgs) == 0 {
		return transport.Message{}, false
	}
	m := b.msgs[0]
	b.msgs[0] = transport.Message{}
	b.msgs = b.msgs[1:]
	return m, true
}

// nextElement returns the first element of p, the rest of a valid JSON
// array after its '[' or after an element, and what follows it; ok is
// false at the array's end. p must come from an array json.Valid accepted:
// only strings and nesting are tracked.
func nextElement(p []byte) (elem, rest []byte, ok bool) {
	i := skipSpace(p, 0)
	if i == len(p) || p[i] == ']' {
		return nil, nil, false
	}
	if p[i] == ',' {
		i = skipSpace(p, i+1)
	}
	start, depth, inString := i, 0, false
	for ; i < len(p); i++ {
		c := p[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped byte
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return trimSpace(p[start:i]), p[i:], true
			}
			depth--
		case ',':
			if depth == 0 {
				return trimSpace(p[start:i]), p[i:], true
			}
		}
	}
	return trimSpace(p[start:]), p[len(p):], true // unreachable for a valid array
}

// skipSpace returns the index of the first byte of p at or after i that is
// not JSON white space.
func skipSpace(p []byte, i int) int {
	for i < len(p) && isSpace(p[i]) {
		i++
	}
	return i
}

func trimSpace(p []byte) []byte {
	for len(p) > 0 && isSpace(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	return p
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// decode turns an ok answer into its messages. 204, 304 and an empty body
// give none, and so does a body of JSON white space in the JSONArray
// format (in WholeBody any other body is a message: a Binary message of
// one space is a message). The body is checked whole before any message
// is delivered: a bad answer delivers nothing.
func (o *options) decode(a *answer) (batch, *decodeError) {
	if a.status == http.StatusNoContent || a.status == http.StatusNotModified {
		return batch{}, nil
	}
	if a.tooLarge {
		return batch{}, &decodeError{transport.StatusMessageTooBig,
			fmt.Errorf("tether/polling: body above %d bytes: %w", o.maxBodySize, transport.ErrMessageTooLarge)}
	}
	if len(a.body) == 0 {
		return batch{}, nil
	}
	if o.format == WholeBody {
		typ := transport.Binary
		if textual(a.header.Get("Content-Type")) {
			typ = transport.Text
		}
		if typ == transport.Text && !utf8.Valid(a.body) {
			return batch{}, invalidUTF8()
		}
		return batch{msgs: []transport.Message{{Type: typ, Payload: a.body}}}, nil
	}
	body := a.body[skipSpace(a.body, 0):]
	if len(body) == 0 {
		return batch{}, nil // JSON white space only (other white space is no JSON: 1002 below)
	}
	if body[0] != '[' || !json.Valid(body) {
		return batch{}, &decodeError{transport.StatusProtocolError,
			fmt.Errorf("tether/polling: body is not a JSON array of messages (%s): %w", notArray(body), transport.ErrProtocol)}
	}
	if !utf8.Valid(body) {
		return batch{}, invalidUTF8()
	}
	b := batch{elems: body[1:]}
	if b.empty() {
		return batch{}, nil
	}
	return b, nil
}

// notArray says why body is not a JSON array.
func notArray(body []byte) string {
	if !json.Valid(body) {
		var v struct{}
		if err := json.Unmarshal(body, &v); err != nil {
			return err.Error() // the syntax is checked before anything is decoded
		}
		return "not JSON"
	}
	switch body[0] { // not '[': a valid array is one
	case '{':
		return "an object"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func invalidUTF8() *decodeError {
	return &decodeError{transport.StatusInvalidPayloadData,
		fmt.Errorf("tether/polling: body: %w", transport.ErrInvalidUTF8)}
}

// textual reports whether a Content-Type names text: text/*, JSON, XML,
// JavaScript or form data.
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}
