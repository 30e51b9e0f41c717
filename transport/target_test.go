package transport_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// TestTargetCheck: a subprotocol or header that would not go into a
// handshake request as it is (or would write headers of its own) is
// refused with ErrBadTarget, whose text never quotes the value.
func TestTargetCheck(t *testing.T) {
	const secret = "s3cr3tT0ken"
	for _, tc := range []struct {
		name   string
		target transport.Target
		ok     bool
	}{
		{"nothing", transport.Target{}, true},
		{"tokens", transport.Target{Subprotocols: []string{"chat.v2", "graphql-transport-ws", "base64url.bearer.authorization.k8s.io." + secret, "x!#$%&'*+-.^_`|~9"}}, true},
		{"headers", transport.Target{Header: http.Header{"Authorization": {"Bearer " + secret}, "X-Tab": {"a\tb"}, "X-Utf8": {"caf\xc3\xa9"}, "X-Empty": {""}}}, true},
		{"CRLF in a subprotocol", transport.Target{Subprotocols: []string{"a\r\nX-Evil: " + secret}}, false},
		{"space in a subprotocol", transport.Target{Subprotocols: []string{"chat " + secret}}, false},
		{"comma in a subprotocol", transport.Target{Subprotocols: []string{"a," + secret}}, false},
		{"empty subprotocol", transport.Target{Subprotocols: []string{"a", ""}}, false},
		{"repeated subprotocol", transport.Target{Subprotocols: []string{secret, "b", secret}}, false},
		{"non-ASCII subprotocol", transport.Target{Subprotocols: []string{"caf\xc3\xa9" + secret}}, false},
		{"LF in a header value", transport.Target{Header: http.Header{"Authorization": {"Bearer " + secret + "\nX-Evil: 1"}}}, false},
		{"CR in a header value", transport.Target{Header: http.Header{"X-A": {secret + "\r"}}}, false},
		{"NUL in a header value", transport.Target{Header: http.Header{"X-A": {"\x00" + secret}}}, false},
		{"DEL in a header value", transport.Target{Header: http.Header{"X-A": {secret + "\x7f"}}}, false},
		{"header name with a space", transport.Target{Header: http.Header{"X Evil": {"1"}}}, false},
		{"header name with CRLF", transport.Target{Header: http.Header{"X-A: 1\r\nX-B": {"1"}}}, false},
		{"empty header name", transport.Target{Header: http.Header{"": {"1"}}}, false},
		{"a value written into the name", transport.Target{Header: http.Header{"Authorization: Bearer " + secret: {""}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.target.Check()
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, transport.ErrBadTarget)
			assert.NotContains(t, err.Error(), secret, "the text quotes a value")
		})
	}
}
