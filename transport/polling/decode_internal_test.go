package polling

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"pgregory.net/rapid"

	"github.com/tether-go/tether/transport"
)

// jsonValue draws any JSON value, nested up to depth levels, with strings
// that hold the bytes an element scanner could trip on.
func jsonValue(depth int) *rapid.Generator[any] {
	scalars := []*rapid.Generator[any]{
		rapid.Just[any](nil),
		rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		rapid.Map(rapid.Float64(), func(f float64) any { return f }),
		rapid.Map(rapid.Int64(), func(i int64) any { return i }),
		rapid.Map(rapid.StringOf(rapid.SampledFrom([]rune(`ab,[]{}":\ `+"\t\n\u00e9\u2028\x01"))), func(s string) any { return s }),
	}
	if depth == 0 {
		return rapid.OneOf(scalars...)
	}
	inner := jsonValue(depth - 1)
	return rapid.OneOf(append(scalars,
		rapid.Map(rapid.SliceOfN(inner, 0, 4), func(v []any) any { return v }),
		rapid.Map(rapid.MapOfN(rapid.StringN(0, 3, 3), inner, 0, 3), func(m map[string]any) any { return m }),
	)...)
}

// TestElementsAreFoundAsJSONDecodesThem: for any JSON array, written with
// any white space, the elements Read hands out one at a time are exactly
// those encoding/json finds, in order, white space around them trimmed.
func TestElementsAreFoundAsJSONDecodesThem(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		elems := rapid.SliceOfN(jsonValue(3), 0, 6).Draw(t, "elems")
		compact, err := json.Marshal(elems)
		if err != nil {
			t.Fatal(err)
		}
		space := rapid.StringOf(rapid.SampledFrom([]rune(" \t\r\n"))).Draw(t, "space")
		var body bytes.Buffer
		body.WriteString(space)
		if err := json.Indent(&body, compact, space, space); err != nil { // white space between every token
			t.Fatal(err)
		}
		body.WriteString(space)

		var want []json.RawMessage
		if err := json.Unmarshal(body.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		o := &options{format: JSONArray}
		b, derr := o.decode(&answer{status: http.StatusOK, body: body.Bytes()})
		if derr != nil {
			t.Fatalf("decode: %v", derr.err)
		}
		var got []string
		for {
			m, ok := b.next()
			if !ok {
				break
			}
			if m.Type != transport.Text {
				t.Fatalf("element of type %v", m.Type)
			}
			got = append(got, string(m.Payload))
		}
		if len(got) != len(want) {
			t.Fatalf("%d elements, encoding/json finds %d in %q", len(got), len(want), body.String())
		}
		for i := range want {
			if got[i] != string(want[i]) {
				t.Fatalf("element %d: %q, encoding/json: %q", i, got[i], want[i])
			}
		}
	})
}

// TestWhiteSpaceBodies: in the JSON-array format a body of JSON white
// space is nothing new and any other white space is no JSON (1002, as
// encoding/json says); in the whole-body format only an empty body is
// nothing, so a Binary message of one space is delivered. Both used to
// take any Unicode white space for "nothing new" (an outside review): a
// one-byte Binary message 0x20 was lost without a word.
func TestWhiteSpaceBodies(t *testing.T) {
	cases := []struct {
		format Format
		ctype  string
		body   string
		want   []transport.Message // nil: nothing new
		code   transport.StatusCode
	}{
		{JSONArray, "application/json", "", nil, 0},
		{JSONArray, "application/json", " \t\r\n", nil, 0},
		{JSONArray, "application/json", "\u00a0", nil, transport.StatusProtocolError},
		{JSONArray, "application/json", "\v", nil, transport.StatusProtocolError},
		{JSONArray, "application/json", "[1]\u2028", nil, transport.StatusProtocolError},
		{WholeBody, "application/octet-stream", "", nil, 0},
		{WholeBody, "application/octet-stream", " ", []transport.Message{{Type: transport.Binary, Payload: []byte(" ")}}, 0},
		{WholeBody, "text/plain", "\n", []transport.Message{{Type: transport.Text, Payload: []byte("\n")}}, 0},
	}
	for _, tc := range cases {
		o := &options{format: tc.format}
		b, derr := o.decode(&answer{status: http.StatusOK, body: []byte(tc.body), header: http.Header{"Content-Type": {tc.ctype}}})
		if tc.code != 0 {
			if derr == nil || derr.code != tc.code {
				t.Errorf("%v %q: %v, want close code %d", tc.format, tc.body, derr, tc.code)
			}
			continue
		}
		if derr != nil {
			t.Errorf("%v %q: %v", tc.format, tc.body, derr.err)
			continue
		}
		var got []transport.Message
		for m, ok := b.next(); ok; m, ok = b.next() {
			got = append(got, m)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%v %q: %d messages, want %d", tc.format, tc.body, len(got), len(tc.want))
			continue
		}
		for i := range got {
			if got[i].Type != tc.want[i].Type || !bytes.Equal(got[i].Payload, tc.want[i].Payload) {
				t.Errorf("%v %q: message %d is %v %q", tc.format, tc.body, i, got[i].Type, got[i].Payload)
			}
		}
	}
}
