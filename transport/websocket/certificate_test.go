package websocket

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// TestCertificateFailuresAreTyped: a server certificate that fails
// verification matches transport.ErrCertificate and keeps the crypto/tls
// and crypto/x509 errors for errors.As.
func TestCertificateFailuresAreTyped(t *testing.T) {
	t.Run("unknown authority", func(t *testing.T) {
		target, _ := newTLSServer(t)
		err := dialErr(t, newTransport(t), transport.Target{URL: target})
		require.ErrorIs(t, err, transport.ErrCertificate)
		var cve *tls.CertificateVerificationError
		require.ErrorAs(t, err, &cve)
		var ua x509.UnknownAuthorityError
		assert.ErrorAs(t, err, &ua)
		assert.NotErrorIs(t, err, transport.ErrBadHandshake)
	})
	t.Run("host name mismatch", func(t *testing.T) {
		target, cert := newTLSServer(t)
		roots := x509.NewCertPool()
		roots.AddCert(cert)
		tr := newTransport(t, WithTLSConfig(&tls.Config{RootCAs: roots, ServerName: "other.example"}))
		err := dialErr(t, tr, transport.Target{URL: target})
		require.ErrorIs(t, err, transport.ErrCertificate)
		var cve *tls.CertificateVerificationError
		require.ErrorAs(t, err, &cve)
		var hn x509.HostnameError
		assert.ErrorAs(t, err, &hn)
	})
	t.Run("expired", func(t *testing.T) {
		cert, leaf := expiredCert(t)
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		roots := x509.NewCertPool()
		roots.AddCert(leaf)
		tr := newTransport(t, WithTLSConfig(&tls.Config{RootCAs: roots}))
		err := dialErr(t, tr, transport.Target{URL: "wss" + strings.TrimPrefix(srv.URL, "https") + "/"})
		require.ErrorIs(t, err, transport.ErrCertificate)
		var ci x509.CertificateInvalidError
		require.ErrorAs(t, err, &ci)
		assert.Equal(t, x509.Expired, ci.Reason)
	})
	t.Run("https proxy", func(t *testing.T) {
		proxy := httptest.NewUnstartedServer(http.NotFoundHandler())
		proxy.Config.ErrorLog = log.New(io.Discard, "", 0)
		proxy.StartTLS()
		t.Cleanup(proxy.Close)
		tr := newTransport(t, WithProxy(func(*http.Request) (*url.URL, error) { return url.Parse(proxy.URL) }))
		err := dialErr(t, tr, transport.Target{URL: "ws://feed.example/live"})
		require.ErrorIs(t, err, transport.ErrCertificate)
		assert.ErrorIs(t, err, ErrProxy)
		var cve *tls.CertificateVerificationError
		assert.ErrorAs(t, err, &cve)
	})
}

// expiredCert returns a self-signed certificate for 127.0.0.1 that expired
// an hour ago.
func expiredCert(t *testing.T) (tls.Certificate, *x509.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "expired.test"},
		NotBefore:             time.Now().Add(-2 * time.Hour),
		NotAfter:              time.Now().Add(-time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}
