package stream_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/stream"
)

type metrics struct {
	CPU float64 `json:"cpu"`
	Mem int     `json:"mem"`
}

func TestJSONRoundTrip(t *testing.T) {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	in := stream.Message[metrics]{Type: "system", Data: metrics{CPU: 0.5, Mem: 42}, Timestamp: ts}
	payload, binary, err := stream.JSON.Marshal(in)
	require.NoError(t, err)
	require.False(t, binary, "JSON goes in text frames")
	require.JSONEq(t, `{"type":"system","data":{"cpu":0.5,"mem":42},"timestamp":"2024-05-01T12:00:00Z"}`, string(payload))

	out, err := stream.Decode[stream.Message[metrics]](stream.JSON, payload)
	require.NoError(t, err)
	require.Equal(t, in, out)
	require.Equal(t, "json", stream.JSON.Name())
}

func TestMessageOmitsZeroTimestamp(t *testing.T) {
	payload, _, err := stream.Encode(nil, stream.Message[int]{Type: "n", Data: 1})
	require.NoError(t, err)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(payload, &fields))
	require.NotContains(t, fields, "timestamp")
	require.Contains(t, fields, "data")
}

func TestRawRoundTrip(t *testing.T) {
	payload, binary, err := stream.Raw.Marshal([]byte{0, 1, 2})
	require.NoError(t, err)
	require.True(t, binary)
	var b []byte
	require.NoError(t, stream.Raw.Unmarshal(payload, &b))
	require.Equal(t, []byte{0, 1, 2}, b)

	payload, binary, err = stream.Raw.Marshal("héllo")
	require.NoError(t, err)
	require.False(t, binary)
	var s string
	require.NoError(t, stream.Raw.Unmarshal(payload, &s))
	require.Equal(t, "héllo", s)

	payload, binary, err = stream.Raw.Marshal(json.RawMessage(`{"a":1}`))
	require.NoError(t, err)
	require.False(t, binary)
	var rm json.RawMessage
	require.NoError(t, stream.Raw.Unmarshal(payload, &rm))
	require.JSONEq(t, `{"a":1}`, string(rm))
	require.Equal(t, "raw", stream.Raw.Name())
}

func TestRawCopies(t *testing.T) {
	src := []byte("borrowed")
	var b []byte
	var s string
	require.NoError(t, stream.Raw.Unmarshal(src, &b))
	require.NoError(t, stream.Raw.Unmarshal(src, &s))
	out, _, err := stream.Raw.Marshal(src)
	require.NoError(t, err)
	copy(src, "XXXXXXXX") // the read buffer is reused
	require.Equal(t, "borrowed", string(b))
	require.Equal(t, "borrowed", s)
	require.Equal(t, "borrowed", string(out))
}

func TestRawRefusesOtherTypes(t *testing.T) {
	var m metrics
	err := stream.Raw.Unmarshal([]byte("x"), &m)
	require.ErrorIs(t, err, stream.ErrUnsupportedType)
	var de *stream.DecodeError
	require.ErrorAs(t, err, &de)
	require.Equal(t, "raw", de.Codec)
	require.Equal(t, "stream_test.metrics", de.Target)

	_, _, err = stream.Raw.Marshal(42)
	require.ErrorIs(t, err, stream.ErrUnsupportedType)
	var ee *stream.EncodeError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, "int", ee.Source)

	_, _, err = stream.Raw.Marshal("\xff")
	require.ErrorIs(t, err, stream.ErrInvalidUTF8)
	var nilBytes *[]byte
	require.ErrorIs(t, stream.Raw.Unmarshal([]byte("x"), nilBytes), stream.ErrUnsupportedType)
}

func TestDecodeErrorIsTypedAndBounded(t *testing.T) {
	secret := "token=hunter2"
	payload := []byte(`{"type":"system","data":` + secret + strings.Repeat("x", 10_000))
	_, err := stream.DecodeEnvelope(nil, payload)
	var de *stream.DecodeError
	require.ErrorAs(t, err, &de)
	var syn *json.SyntaxError
	require.ErrorAs(t, err, &syn, "the codec's own error is unwrapped")
	require.Equal(t, "json", de.Codec)
	require.Len(t, de.Payload, stream.MaxExcerpt)
	require.Equal(t, payload[:stream.MaxExcerpt], de.Payload)
	require.Equal(t, len(payload), de.Size)
	require.NotContains(t, err.Error(), secret, "the payload never reaches the error text")

	payload[0] = '!' // the excerpt is a copy of the (borrowed) payload
	require.Equal(t, byte('{'), de.Payload[0])
}

func TestDecodeErrorShortPayload(t *testing.T) {
	_, err := stream.Decode[int](stream.JSON, []byte(`"x"`))
	var de *stream.DecodeError
	require.ErrorAs(t, err, &de)
	require.Equal(t, []byte(`"x"`), de.Payload)
	require.Equal(t, "int", de.Target)
	var ute *json.UnmarshalTypeError
	require.ErrorAs(t, err, &ute)
}

// failCodec is a custom codec that returns plain errors.
type failCodec struct{ err error }

func (failCodec) Name() string                         { return "fail" }
func (c failCodec) Marshal(any) ([]byte, bool, error)  { return nil, false, c.err }
func (c failCodec) Unmarshal(data []byte, v any) error { return c.err }

func TestCustomCodecErrorsAreWrapped(t *testing.T) {
	boom := errors.New("boom")
	c := failCodec{err: boom}
	_, err := stream.Decode[int](c, []byte("1"))
	var de *stream.DecodeError
	require.ErrorAs(t, err, &de)
	require.ErrorIs(t, err, boom)
	require.Equal(t, "fail", de.Codec)

	_, _, err = stream.Encode(c, 1)
	var ee *stream.EncodeError
	require.ErrorAs(t, err, &ee)
	require.ErrorIs(t, err, boom)
	require.Equal(t, "fail", ee.Codec)
}

// A codec's own *EncodeError that left Codec or Source empty gets them
// filled in a copy, as NewDecodeError does for DecodeError's Type.
func TestEncodeFillsACodecsEncodeError(t *testing.T) {
	boom := errors.New("boom")
	own := &stream.EncodeError{Err: boom}
	_, _, err := stream.Encode(failCodec{err: own}, struct{ N int }{})
	var ee *stream.EncodeError
	require.ErrorAs(t, err, &ee)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, "fail", ee.Codec)
	assert.Equal(t, "struct { N int }", ee.Source)
	assert.Empty(t, own.Source, "the codec's error is not modified")

	named := &stream.EncodeError{Codec: "mine", Source: "Mine", Err: boom}
	_, _, err = stream.Encode(failCodec{err: named}, 1)
	assert.Same(t, named, err, "a complete one is returned as it is")
}

func TestNewDecodeErrorKeepsExisting(t *testing.T) {
	inner := stream.NewDecodeError("json", "", nil, []byte("abc"), errors.New("bad"))
	outer := stream.NewDecodeError("other", "system", nil, bytes.Repeat([]byte("z"), 500), inner)
	require.Equal(t, "json", outer.Codec)
	require.Equal(t, "system", outer.Type)
	require.Equal(t, []byte("abc"), outer.Payload)
	require.Empty(t, inner.Type, "the codec's error is not modified")
}
