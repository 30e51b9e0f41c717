package websocket

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// TestPlainURLToATLSServerSaysSo: a ws:// URL that reaches a TLS server
// fails with ErrWantsTLS instead of "bad HTTP protocol version" or an
// unexpected EOF, which the default policy retried for ever. Go's HTTPS
// server refuses in HTTP/1.0 with 400 (terminal by its status); a server
// that answers with a TLS alert fails as a bad handshake (terminal too).
func TestPlainURLToATLSServerSaysSo(t *testing.T) {
	t.Run("Go's HTTPS server", func(t *testing.T) {
		s := httptest.NewUnstartedServer(http.NotFoundHandler())
		s.Config.ErrorLog = log.New(io.Discard, "", 0) // it logs the plain request
		s.StartTLS()
		defer s.Close()
		err := dialErr(t, newTransport(t), transport.Target{URL: "ws://" + s.Listener.Addr().String() + "/"})
		require.ErrorIs(t, err, ErrWantsTLS)
		var he *transport.HandshakeError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, http.StatusBadRequest, he.StatusCode, "the status, so that the HTTP rules apply")
		assert.Contains(t, he.Body, "HTTPS")
	})
	t.Run("a TLS alert, the connection kept open", func(t *testing.T) {
		s := newRawServer(t, func(*http.Request, string) []byte {
			return []byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28} // and no close: it failed at the dial timeout
		})
		err := dialErr(t, newTransport(t), transport.Target{URL: s.url})
		require.ErrorIs(t, err, ErrWantsTLS)
		assert.ErrorIs(t, err, transport.ErrBadHandshake, "terminal for the default policy")
		assert.NotErrorIs(t, err, transport.ErrTimeout)
	})
	t.Run("a TLS alert", func(t *testing.T) {
		s := newRawServer(t, func(*http.Request, string) []byte {
			return []byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46} // fatal protocol_version
		})
		stop, closed := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(closed)
			select {
			case sc := <-s.conns:
				sc.Close()
			case <-stop:
			}
		}()
		defer func() {
			close(stop)
			<-closed
		}()
		err := dialErr(t, newTransport(t), transport.Target{URL: s.url})
		require.ErrorIs(t, err, ErrWantsTLS)
		assert.ErrorIs(t, err, transport.ErrBadHandshake, "terminal for the default policy")
		assert.NotErrorIs(t, err, ErrHandshakeCut)
	})
}

// TestAnHTTP10AnswerKeepsItsStatus: gobwas rejects an answer that is not
// HTTP/1.1 without its status; a refusal in HTTP/1.0 keeps its status,
// headers and body, so the HTTP rules (Retry-After among them) apply, and
// a 101 in HTTP/1.0 is a bad handshake.
func TestAnHTTP10AnswerKeepsItsStatus(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		status       int
	}{
		{"503 with Retry-After", "HTTP/1.0 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nbusy", 503},
		{"101", "HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 101},
		// Past a bound, or not parsing past the status line: the status
		// is still the server's word (they were status 0, retried for
		// ever; a later outside review).
		{"429, a header line past the bound", "HTTP/1.0 429 Too Many Requests\r\nX-Big: " + strings.Repeat("a", MaxHandshakeLine) + "\r\n\r\n", 429},
		{"503, a header line without a colon", "HTTP/1.0 503 Service Unavailable\r\nno colon here\r\n\r\n", 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRawServer(t, func(*http.Request, string) []byte { return []byte(tc.answer) })
			err := dialErr(t, newTransport(t), transport.Target{URL: s.url})
			var he *transport.HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.status, he.StatusCode)
			if tc.status == 101 {
				assert.ErrorIs(t, err, transport.ErrBadHandshake, "a 101 in HTTP/1.0 is a bad handshake")
			}
			assert.NotErrorIs(t, err, ErrWantsTLS)
			if tc.name == "503 with Retry-After" {
				assert.Equal(t, "7", he.Header.Get("Retry-After"))
				assert.Equal(t, "busy", he.Body)
			}
		})
	}
}

// TestATLSServerNamingHTTPSIsNoHint: over wss, a 400 whose body names
// HTTPS is a refusal like any other, not ErrWantsTLS.
func TestATLSServerNamingHTTPSIsNoHint(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "this endpoint wants HTTPS and a token", http.StatusBadRequest)
	}))
	defer s.Close()
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	tr := newTransport(t, WithTLSConfig(&tls.Config{RootCAs: roots}))
	err := dialErr(t, tr, transport.Target{URL: "wss" + strings.TrimPrefix(s.URL, "https") + "/"})
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusBadRequest, he.StatusCode)
	assert.NotErrorIs(t, err, ErrWantsTLS)
}
