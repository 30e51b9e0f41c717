package rpc_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/stream"
)

// TestErrorTextBounded: the text of an error that quotes a server (its
// error object's message and data, a refusal's result, a codec's or
// protocol's error, which may quote the payload) is bounded, however much
// the server sent: at most 256 bytes of a message or an error, and
// stream.MaxExcerpt of data, cut on a character boundary and marked with
// "...". The fields keep everything. (RemoteError.Error was 2 MiB for a
// 1 MiB message and 1 MiB of data, and UnknownReplyError's with it.)
func TestErrorTextBounded(t *testing.T) {
	huge := strings.Repeat("é", 1<<19) // 1 MiB, two bytes a character
	data := json.RawMessage(`"` + huge + `"`)
	remote := &rpc.RemoteError{Code: 7, Message: huge, Data: data}
	codecErr := errors.New("json: cannot unmarshal number " + huge + " into Go value of type int")
	const most = 256 + stream.MaxExcerpt + 128 // what is quoted, and the words around it
	for name, err := range map[string]error{
		"remote":    remote,
		"unknown":   &rpc.UnknownReplyError{ID: 9, Remote: remote, Payload: []byte(huge)},
		"malformed": &rpc.MalformedReplyError{ID: 9, Payload: []byte(huge), Err: codecErr},
		"refused":   &rpc.RefusedError{Topic: "news", Result: data},
		"decode":    &rpc.DecodeError{Topic: "news", Data: []byte(huge), Err: codecErr},
		"key":       &rpc.KeyInUseError{Topic: "b", Key: huge, HeldBy: "a"},
	} {
		text := err.Error()
		assert.LessOrEqual(t, len(text), most, "%s: %d bytes", name, len(text))
		assert.True(t, utf8.ValidString(text), "%s: cut inside a character", name)
		if name == "decode" {
			// A codec's error it does not know is named, not quoted.
			assert.NotContains(t, text, huge[:16], "%s: the data is quoted", name)
			continue
		}
		assert.Contains(t, text, "...", "%s: the cut is not marked", name)
	}
	require.Equal(t, huge, remote.Message, "the fields keep everything")
	require.Equal(t, data, remote.Data)

	// A short text is whole, unmarked.
	short := &rpc.RemoteError{Code: 7, Message: "no such job", Data: json.RawMessage(`{"job":42}`)}
	assert.Equal(t, `rpc: server error 7: no such job ({"job":42})`, short.Error())
}

// TestDecodeErrorTextNeverPrintsTheData: encoding/json's error for a
// number too large for its field quotes the number; rpc's DecodeError
// rephrases it, as stream's does, instead of passing it on.
func TestDecodeErrorTextNeverPrintsTheData(t *testing.T) {
	const secret = "98765432109876543210987654321"
	var n int
	jerr := json.Unmarshal([]byte(secret), &n)
	require.Error(t, jerr)
	err := &rpc.DecodeError{Method: "balance", Target: "int", Data: []byte(secret), Err: jerr}
	assert.NotContains(t, err.Error(), secret[:12])
	assert.ErrorIs(t, err, rpc.ErrDecode)
	var te *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &te, "the codec's error is kept")

	// A type that decodes itself quotes its input: time.Time's error was
	// printed whole (outside review).
	var when time.Time
	terr := json.Unmarshal([]byte(`"sk_live_`+secret+`"`), &when)
	require.ErrorContains(t, terr, secret, "time's error quotes its input")
	err = &rpc.DecodeError{Topic: "ticks", Target: "time.Time", Data: []byte(secret), Err: terr}
	assert.NotContains(t, err.Error(), secret[:12])
	assert.ErrorIs(t, err, terr, "the codec's error is kept")
}
