package stream_test

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/stream"
)

// maxErrorText bounds the text of an error about anything the peer sent.
const maxErrorText = 512

// hostileStrings are 1 MiB message types: plain, all escaped when quoted
// (4 bytes each), multibyte (cut on a character boundary), and a mix.
var hostileStrings = map[string]string{
	"ascii":     strings.Repeat("a", 1<<20),
	"escaped":   strings.Repeat("\x00", 1<<20),
	"multibyte": strings.Repeat("é", 1<<19),
	"mixed":     strings.Repeat("a\x00é\u2028", 1<<17),
}

func requireBoundedText(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	s := err.Error()
	assert.Less(t, len(s), maxErrorText, "error text of %d bytes", len(s))
	assert.True(t, utf8.ValidString(s), "error text cut inside a character")
}

// TestRouteErrorTextIsBounded: a 1 MiB message type used to make a 1 MiB
// RouteError text. The field keeps the whole type.
func TestRouteErrorTextIsBounded(t *testing.T) {
	for name, typ := range hostileStrings {
		t.Run(name, func(t *testing.T) {
			r := stream.NewRouter()
			err := r.Dispatch(stream.Envelope{Type: typ, Data: json.RawMessage(`{}`)})
			requireBoundedText(t, err)
			require.ErrorIs(t, err, stream.ErrUnknownType)
			most := len("tether/stream: route message type ") + len(`"`) + stream.MaxExcerpt + len(`"...: `) + len(stream.ErrUnknownType.Error())
			assert.LessOrEqual(t, len(err.Error()), most, "MaxExcerpt bytes between the quotes")
			re, ok := errors.AsType[*stream.RouteError](err)
			require.True(t, ok)
			assert.Equal(t, typ, re.Type)
			q := strconv.Quote(typ[:8])
			assert.Contains(t, err.Error(), q[:len(q)-1], "the start of the type is quoted")
			assert.Contains(t, err.Error(), `"...`, "the cut is marked")

			r.Close()
			err = r.Dispatch(stream.Envelope{Type: typ})
			requireBoundedText(t, err)
			require.ErrorIs(t, err, stream.ErrClosed)
		})
	}
}

// TestShortTypesAreQuotedWhole: a type that fits is quoted as it is.
func TestShortTypesAreQuotedWhole(t *testing.T) {
	typ := strings.Repeat("t", stream.MaxExcerpt)
	err := stream.NewRouter().Dispatch(stream.Envelope{Type: typ})
	assert.Equal(t, `tether/stream: route message type "`+typ+`": `+stream.ErrUnknownType.Error(), err.Error())
}

// TestDecodeErrorTextIsBounded: a DecodeError quotes the message type and
// holds the codec's error, which may quote the payload: encoding/json
// quotes a number that overflows its field whole, so 1 MiB of digits made
// a 1 MiB text.
func TestDecodeErrorTextIsBounded(t *testing.T) {
	digits := strings.Repeat("9", 1<<20)
	for name, typ := range hostileStrings {
		t.Run(name, func(t *testing.T) {
			r := stream.NewRouter()
			stream.Handle(r, typ, func(stream.Message[metrics]) {})
			typJSON, err := json.Marshal(typ)
			require.NoError(t, err)
			err = r.DispatchPayload([]byte(`{"type":` + string(typJSON) + `,"data":{"mem":` + digits + `}}`))
			requireBoundedText(t, err)
			de, ok := errors.AsType[*stream.DecodeError](err)
			require.True(t, ok)
			assert.Equal(t, typ, de.Type)
			_, isJSON := errors.AsType[*json.UnmarshalTypeError](err)
			assert.True(t, isJSON, "the codec's error is kept")
			assert.Contains(t, err.Error(), "...")
		})
	}
}

// TestDecodeErrorCutsACustomCodecsText: a codec's own error text is
// bounded too.
func TestDecodeErrorCutsACustomCodecsText(t *testing.T) {
	long := errors.New(strings.Repeat("é", 1<<19))
	err := stream.NewDecodeError("custom", "t", nil, []byte("x"), long)
	requireBoundedText(t, err)
	assert.ErrorIs(t, err, long)
}

// TestDecodeEnvelopeTextIsBounded: an envelope that does not decode, however
// large, gives a short text.
func TestDecodeEnvelopeTextIsBounded(t *testing.T) {
	for name, payload := range map[string]string{
		"type is a huge number": `{"type":` + strings.Repeat("9", 1<<20) + `}`,
		"syntax error at 1 MiB": `{"type":"` + strings.Repeat("a", 1<<20) + `"x`,
		"not an object":         `"` + strings.Repeat("a", 1<<20) + `"`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := stream.DecodeEnvelope(nil, []byte(payload))
			requireBoundedText(t, err)
			_, ok := errors.AsType[*stream.DecodeError](err)
			assert.True(t, ok)
		})
	}
}

// TestDecodeErrorNeverPrintsThePayload: encoding/json's errors quote what
// they choke on (a number that overflows its field, the key a number map
// fails to parse, a character); DecodeError.Error used to pass that text
// on, against its promise. Err keeps the codec's error whole.
func TestDecodeErrorNeverPrintsThePayload(t *testing.T) {
	const secret = "98765432109876543210987654321"
	type stringTagged struct {
		N int `json:",string"`
	}
	type withAddr struct{ A netip.Addr }
	for name, tc := range map[string]struct {
		decode  func([]byte) error
		payload string
		want    string // in the text; "json: " when empty
	}{
		// An outside review found these four printed whole: the errors
		// of types that decode themselves, and of a ",string" field,
		// quote their input too.
		"an envelope whose timestamp is no time": {
			decode:  func(p []byte) error { _, err := stream.DecodeEnvelope(stream.JSON, p); return err },
			payload: `{"type":"x","timestamp":"sk_live_` + secret + `"}`,
			want:    `time: a value does not parse as "2006-01-02T15:04:05Z07:00"`,
		},
		"a string field tagged ,string": {
			decode:  func(p []byte) error { _, err := stream.Decode[stringTagged](stream.JSON, p); return err },
			payload: `{"N":"sk_live_` + secret + `"}`,
			want:    "(its text may quote the payload: see Err)",
		},
		"a type whose UnmarshalText quotes its input": {
			decode:  func(p []byte) error { _, err := stream.Decode[withAddr](stream.JSON, p); return err },
			payload: `{"A":"sk_live_` + secret + `"}`,
			want:    "the codec's",
		},
		"a custom codec whose error quotes the payload": {
			decode:  func(p []byte) error { _, err := stream.Decode[int](quotingCodec{}, p); return err },
			payload: `sk_live_` + secret,
			want:    "the codec's *errors.errorString",
		},
		"a number too large for its field": {
			decode:  func(p []byte) error { _, err := stream.Decode[metrics](stream.JSON, p); return err },
			payload: `{"mem":` + secret + `}`,
		},
		"a number key that does not parse": {
			decode:  func(p []byte) error { _, err := stream.Decode[map[int]int](stream.JSON, p); return err },
			payload: `{"` + secret + `x":1}`,
		},
		"a string where a number goes": {
			decode:  func(p []byte) error { _, err := stream.Decode[metrics](stream.JSON, p); return err },
			payload: `{"mem":"` + secret + `"}`,
		},
		"a syntax error": {
			decode:  func(p []byte) error { _, err := stream.Decode[metrics](stream.JSON, p); return err },
			payload: `{"mem": ` + secret + `Q}`,
		},
		"a routed message": {
			decode: func(p []byte) error {
				r := stream.NewRouter()
				stream.Handle(r, "m", func(stream.Message[metrics]) {})
				return r.DispatchPayload(p)
			},
			payload: `{"type":"m","data":{"mem":` + secret + `}}`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.decode([]byte(tc.payload))
			de, ok := errors.AsType[*stream.DecodeError](err)
			require.True(t, ok, "%v", err)
			assert.NotContains(t, err.Error(), secret[:12])
			assert.NotContains(t, err.Error(), "'Q'")
			assert.Contains(t, err.Error(), cmp.Or(tc.want, "json: "))
			assert.NotNil(t, de.Err, "the codec's error is kept")
		})
	}
}

// quotingCodec is a custom codec whose errors quote the payload.
type quotingCodec struct{}

func (quotingCodec) Name() string                      { return "quoting" }
func (quotingCodec) Marshal(any) ([]byte, bool, error) { return nil, false, errors.New("no") }
func (quotingCodec) Unmarshal(data []byte, _ any) error {
	return errors.New("bad input: " + string(data))
}

// TestRoutedDecodeErrorDescribesTheData: for a routed message whose data
// does not fit its type, Payload and Size describe the data member, as
// the docs say; for a malformed envelope, the whole message.
func TestRoutedDecodeErrorDescribesTheData(t *testing.T) {
	r := stream.NewRouter()
	stream.Handle(r, "m", func(stream.Message[metrics]) {})
	data := `{"mem":"not a number"}`
	msg := `{"type":"m","data":` + data + `}`
	de, ok := errors.AsType[*stream.DecodeError](r.DispatchPayload([]byte(msg)))
	require.True(t, ok)
	assert.Equal(t, len(data), de.Size)
	assert.Equal(t, data, string(de.Payload))

	bad := `{"type":"m","data":` // not an envelope
	de, ok = errors.AsType[*stream.DecodeError](r.DispatchPayload([]byte(bad)))
	require.True(t, ok)
	assert.Equal(t, len(bad), de.Size)
}
