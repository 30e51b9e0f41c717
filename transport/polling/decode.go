package polling

import (
	"bytes"
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

// decode turns an ok answer into messages. 204, 304 and a body of white
// space give none.
func (o *options) decode(a *answer) ([]transport.Message, *decodeError) {
	if a.status == http.StatusNoContent || a.status == http.StatusNotModified {
		return nil, nil
	}
	if a.tooLarge {
		return nil, &decodeError{transport.StatusMessageTooBig,
			fmt.Errorf("tether/polling: body above %d bytes: %w", o.maxBodySize, transport.ErrMessageTooLarge)}
	}
	if len(bytes.TrimSpace(a.body)) == 0 {
		return nil, nil
	}
	if o.format == WholeBody {
		typ := transport.Binary
		if textual(a.header.Get("Content-Type")) {
			typ = transport.Text
		}
		if typ == transport.Text && !utf8.Valid(a.body) {
			return nil, invalidUTF8()
		}
		return []transport.Message{{Type: typ, Payload: a.body}}, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(a.body, &elems); err != nil {
		return nil, &decodeError{transport.StatusProtocolError,
			fmt.Errorf("tether/polling: body is not a JSON array of messages (%v): %w", err, transport.ErrProtocol)}
	}
	msgs := make([]transport.Message, len(elems))
	for i, e := range elems {
		if !utf8.Valid(e) {
			return nil, invalidUTF8()
		}
		msgs[i] = transport.Message{Type: transport.Text, Payload: e}
	}
	return msgs, nil
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
