package transport_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

func TestParseClose(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		code    transport.StatusCode
		reason  string
		err     error
	}{
		{"empty", nil, transport.StatusNoStatusReceived, "", nil},
		{"code only", []byte{0x03, 0xE8}, 1000, "", nil},
		{"code and reason", append([]byte{0x0F, 0xA1}, "bye"...), 4001, "bye", nil},
		{"one byte", []byte{0x03}, 0, "", transport.ErrProtocol},
		{"1005 on the wire", []byte{0x03, 0xED}, 0, "", transport.ErrProtocol},
		{"1006 on the wire", []byte{0x03, 0xEE}, 0, "", transport.ErrProtocol},
		{"code 999", []byte{0x03, 0xE7}, 0, "", transport.ErrProtocol},
		{"code 5000", []byte{0x13, 0x88}, 0, "", transport.ErrProtocol},
		{"bad UTF-8 reason", []byte{0x03, 0xE8, 0xff, 0xfe}, 0, "", transport.ErrInvalidUTF8},
		{"too long", append([]byte{0x03, 0xE8}, strings.Repeat("x", 124)...), 0, "", transport.ErrProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := transport.ParseClose(tc.payload)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, tc.reason, reason)
		})
	}
}

func TestAppendCloseRoundTrip(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes: cut on a rune boundary
	p := transport.AppendClose(nil, 4001, long)
	assert.LessOrEqual(t, len(p), 125)
	code, reason, err := transport.ParseClose(p)
	require.NoError(t, err)
	assert.Equal(t, transport.StatusCode(4001), code)
	assert.True(t, strings.HasPrefix(long, reason))
	assert.Empty(t, transport.AppendClose(nil, transport.StatusAbnormalClosure, "x"))
	assert.Equal(t, "bad \uFFFD", transport.CloseReason("bad \xff"), "invalid UTF-8 is replaced")
}

// FuzzParseClose: any payload gives a sendable code and a UTF-8 reason, or a
// typed error; never a panic. What parses survives a round trip.
func FuzzParseClose(f *testing.F) {
	for _, seed := range [][]byte{nil, {0x03}, {0x03, 0xE8}, {0x03, 0xED}, {0x0F, 0xA1, 'b', 'y', 'e'}, {0x03, 0xE8, 0xff}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := transport.ParseClose(p)
		if err != nil {
			if !errors.Is(err, transport.ErrProtocol) && !errors.Is(err, transport.ErrInvalidUTF8) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if len(p) == 0 {
			return
		}
		if !code.Sendable() || !utf8.ValidString(reason) || len(reason) > transport.MaxCloseReason {
			t.Fatalf("accepted %d %q", code, reason)
		}
		c2, r2, err := transport.ParseClose(transport.AppendClose(nil, code, reason))
		if err != nil || c2 != code || r2 != reason {
			t.Fatalf("round trip: %d %q -> %d %q %v", code, reason, c2, r2, err)
		}
	})
}
