package integration

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// startTLSPeer starts a wss peer (Node's https server under ws) with a
// certificate from a fresh private CA, and returns it with the CA.
func startTLSPeer(t *testing.T) (*peer.Peer, *peer.Certs) {
	t.Helper()
	certs, err := peer.WriteCerts(t.TempDir())
	require.NoError(t, err)
	return peer.StartT(t, peer.WithTLS(certs.CertFile, certs.KeyFile)), certs
}

// TestTLSTrustedThroughCustomRoot dials wss:// trusting the private CA
// through RootCAs: the handshake with Node's TLS stack verifies, and
// messages round-trip.
func TestTLSTrustedThroughCustomRoot(t *testing.T) {
	t.Parallel()
	p, certs := startTLSPeer(t)
	url := peerURL(p, "/echo", newID(t))
	require.True(t, strings.HasPrefix(url, "wss://"))

	tr := newTransport(t, websocket.WithTLSConfig(&tls.Config{RootCAs: certs.Pool}))
	c := dial(t, tr, transport.Target{URL: url})
	for _, m := range []transport.Message{
		{Type: transport.Text, Payload: []byte("secret hello")},
		{Type: transport.Binary, Payload: randomBinary(70000)},
	} {
		write(t, c, m.Type, m.Payload)
		requireMessage(t, c, m.Type, m.Payload)
	}
}

// TestTLSUntrustedFails dials the same server with the default
// configuration (system roots): verification fails with the certificate
// error types intact.
func TestTLSUntrustedFails(t *testing.T) {
	t.Parallel()
	p, _ := startTLSPeer(t)
	err := dialErr(t, newTransport(t), transport.Target{URL: peerURL(p, "/echo", newID(t))})
	var cve *tls.CertificateVerificationError
	require.ErrorAs(t, err, &cve)
	var ua x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &ua)
}

// TestTLSWrongServerNameFails trusts the CA but expects another name: the
// certificate is valid for 127.0.0.1 and localhost only.
func TestTLSWrongServerNameFails(t *testing.T) {
	t.Parallel()
	p, certs := startTLSPeer(t)
	tr := newTransport(t, websocket.WithTLSConfig(&tls.Config{RootCAs: certs.Pool, ServerName: "other.example"}))
	err := dialErr(t, tr, transport.Target{URL: peerURL(p, "/echo", newID(t))})
	var he x509.HostnameError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "other.example", he.Host)
}
