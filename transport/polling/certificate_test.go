package polling_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/polling"
)

// TestCertificateFailuresAreTyped: a server certificate that fails
// verification ends the Dial with an error matching transport.ErrCertificate,
// with the crypto/tls and crypto/x509 errors kept in the chain, as the
// WebSocket transport reports it; the default reconnect policy then gives
// up. It used to be a plain *url.Error, which the policy retried for ever.
func TestCertificateFailuresAreTyped(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("[]"))
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	ts.StartTLS()
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())

	for _, tc := range []struct {
		name  string
		tls   *tls.Config // nil: the transport's default client
		check func(error) bool
	}{
		{"unknown authority", nil, func(err error) bool {
			_, ok := errors.AsType[x509.UnknownAuthorityError](err)
			return ok
		}},
		{"wrong host name", &tls.Config{RootCAs: pool, ServerName: "wrong.test"}, func(err error) bool {
			_, ok := errors.AsType[x509.HostnameError](err)
			return ok
		}},
		{"expired", &tls.Config{RootCAs: pool, Time: func() time.Time { return time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) }},
			func(err error) bool {
				e, ok := errors.AsType[x509.CertificateInvalidError](err)
				return ok && e.Reason == x509.Expired
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []polling.Option
			if tc.tls != nil {
				ht := &http.Transport{TLSClientConfig: tc.tls}
				t.Cleanup(ht.CloseIdleConnections)
				opts = append(opts, polling.WithHTTPClient(&http.Client{Transport: ht}))
			}
			tr, err := polling.New(opts...)
			require.NoError(t, err)
			url := "wss" + strings.TrimPrefix(ts.URL, "https") + "/feed?token=s3cret"

			c, err := tr.Dial(testCtx(t), transport.Target{URL: url})
			require.Nil(t, c)
			require.ErrorIs(t, err, transport.ErrCertificate)
			_, ok := errors.AsType[*tls.CertificateVerificationError](err)
			assert.True(t, ok, "the crypto/tls error is in the chain: %v", err)
			assert.True(t, tc.check(err), "the crypto/x509 error is in the chain: %v", err)
			assert.NotErrorIs(t, err, transport.ErrTimeout)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}
