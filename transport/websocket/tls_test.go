package websocket

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// newTLSServer starts an echoing wss server with a certificate generated
// by httptest (valid for 127.0.0.1 and example.com).
func newTLSServer(t *testing.T) (url string, cert *x509.Certificate) {
	return newTLSServerWith(t, func(conn net.Conn) {
		echo(&peer{t: t, conn: conn, br: bufio.NewReader(conn)})
	})
}

// newTLSServerWith is newTLSServer running serve on each upgraded
// connection, on its own goroutine, and closing it after.
func newTLSServerWith(t *testing.T, serve func(net.Conn)) (url string, cert *x509.Certificate) {
	var wg sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		wg.Go(func() {
			defer conn.Close()
			serve(conn)
		})
	}))
	// The untrusted case makes the server log a handshake error: drop it.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	return "wss" + strings.TrimPrefix(srv.URL, "https") + "/secure", srv.Certificate()
}

func TestTLSTrustedByCustomRoots(t *testing.T) {
	url, cert := newTLSServer(t)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	c := dial(t, newTransport(t, WithTLSConfig(&tls.Config{RootCAs: roots})), transport.Target{URL: url})
	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("secret hello")))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "secret hello", string(m.Payload))
}

func TestTLSUntrustedFails(t *testing.T) {
	url, _ := newTLSServer(t)
	err := dialErr(t, newTransport(t), transport.Target{URL: url})
	var cve *tls.CertificateVerificationError
	require.ErrorAs(t, err, &cve)
	var ua x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &ua)
}

func TestTLSConfigIsCloned(t *testing.T) {
	url, cert := newTLSServer(t)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	cfg := &tls.Config{RootCAs: roots}
	tr := newTransport(t, WithTLSConfig(cfg))
	cfg.RootCAs = nil // a later change by the caller does not reach the Transport
	c := dial(t, tr, transport.Target{URL: url})
	assert.NoError(t, c.Err())
}
