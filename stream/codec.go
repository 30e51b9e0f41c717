package stream

import (
	"cmp"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// Codec turns values into message payloads and back. Marshal also says how
// the payload is framed: binary true for a binary frame, false for a text
// frame (which must be valid UTF-8).
//
// Implementations must be safe for concurrent use by any number of
// goroutines. Unmarshal must not keep data after it returns (it may be a
// borrowed read buffer): copy what you keep. Return a [*DecodeError] (see
// [NewDecodeError]) from Unmarshal and an [*EncodeError] from Marshal; the
// package wraps other errors in them. A panic is not recovered, in a codec
// as in any callback: Unmarshal reads what a server sends, so it must
// return an error, never panic, whatever the payload.
type Codec interface {
	// Name identifies the codec in errors, for example "json".
	Name() string
	// Marshal encodes v. The payload belongs to the caller.
	Marshal(v any) (payload []byte, binary bool, err error)
	// Unmarshal decodes data into v, which is a non-nil pointer.
	Unmarshal(data []byte, v any) error
}

// The shipped codecs.
var (
	// JSON encodes with encoding/json into text frames and decodes text or
	// binary frames. It is the default codec.
	JSON Codec = jsonCodec{}
	// Raw passes bytes through as they are: Marshal takes a []byte (binary
	// frame), a json.RawMessage (text frame) or a string (text frame; it must
	// be valid UTF-8); Unmarshal copies the payload into a *[]byte, a
	// *json.RawMessage or a *string.
	Raw Codec = rawCodec{}
)

type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }

func (jsonCodec) Marshal(v any) ([]byte, bool, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false, &EncodeError{Codec: "json", Source: typeName(v), Err: err}
	}
	return b, false, nil
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return NewDecodeError("json", "", v, data, err)
	}
	return nil
}

type rawCodec struct{}

func (rawCodec) Name() string { return "raw" }

func (rawCodec) Marshal(v any) ([]byte, bool, error) {
	switch v := v.(type) {
	case []byte:
		return append([]byte(nil), v...), true, nil
	case json.RawMessage:
		if !utf8.Valid(v) {
			return nil, false, &EncodeError{Codec: "raw", Source: "json.RawMessage", Err: ErrInvalidUTF8}
		}
		return append([]byte(nil), v...), false, nil
	case string:
		if !utf8.ValidString(v) {
			return nil, false, &EncodeError{Codec: "raw", Source: "string", Err: ErrInvalidUTF8}
		}
		return []byte(v), false, nil
	}
	return nil, false, &EncodeError{Codec: "raw", Source: typeName(v), Err: ErrUnsupportedType}
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	switch v := v.(type) {
	case *[]byte:
		if v != nil {
			*v = append([]byte(nil), data...)
			return nil
		}
	case *json.RawMessage:
		if v != nil {
			*v = append(json.RawMessage(nil), data...)
			return nil
		}
	case *string:
		if v != nil {
			*v = string(data)
			return nil
		}
	}
	return NewDecodeError("raw", "", v, data, ErrUnsupportedType)
}

// Decode decodes payload into a new T with c (nil means [JSON]). Every error
// is a [*DecodeError]. payload may be a borrowed buffer: nothing of it is
// kept unless T's decoding copies it (JSON and Raw copy).
func Decode[T any](c Codec, payload []byte) (T, error) {
	var v T
	err := decodeInto(c, "", payload, &v)
	return v, err
}

// Encode encodes v with c (nil means [JSON]) and reports whether the payload
// goes in a binary frame. Every error is an [*EncodeError]: the codec's
// own, with an empty Codec or Source filled in (in a copy), or one that
// wraps what the codec returned.
func Encode(c Codec, v any) (payload []byte, binary bool, err error) {
	if c == nil {
		c = JSON
	}
	payload, binary, err = c.Marshal(v)
	if err != nil {
		var ee *EncodeError
		switch {
		case !errors.As(err, &ee):
			err = &EncodeError{Codec: c.Name(), Source: typeName(v), Err: err}
		case err == error(ee) && (ee.Codec == "" || ee.Source == ""):
			filled := *ee // the codec's own error is not modified
			filled.Codec = cmp.Or(filled.Codec, c.Name())
			filled.Source = cmp.Or(filled.Source, typeName(v))
			err = &filled
		}
		return nil, false, err
	}
	return payload, binary, nil
}

// decodeInto decodes data into ptr, wrapping any error in a DecodeError
// that names the envelope type typ.
func decodeInto(c Codec, typ string, data []byte, ptr any) error {
	if c == nil {
		c = JSON
	}
	if err := c.Unmarshal(data, ptr); err != nil {
		return NewDecodeError(c.Name(), typ, ptr, data, err)
	}
	return nil
}
