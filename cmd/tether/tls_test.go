package main

import (
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tlsServer is an HTTPS server with a certificate from its own CA that
// answers every request with 404: enough to tell a TLS failure from a
// handshake that got through TLS.
func tlsServer(t *testing.T) (wssURL, caFile string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused TLS handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	block := &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(block), 0o600))
	return "wss" + strings.TrimPrefix(srv.URL, "https"), caFile
}

func TestDialVerifiesTLS(t *testing.T) {
	url, _ := tlsServer(t)
	code, _, stderr := runSync(t, "dial", "-stdin=false", "-reconnect", "never", url)
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "certificate")
	assert.NotContains(t, stderr, "HTTP 404") // not bare "404": the port may contain it
}

func TestDialCACertTrustsAPrivateCA(t *testing.T) {
	url, ca := tlsServer(t)
	code, _, stderr := runSync(t, "dial", "-stdin=false", "-cacert", ca, "-reconnect", "never", url)
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "HTTP 404", "TLS succeeded, the WebSocket handshake was refused")
	assert.NotContains(t, stderr, "x509")
}

func TestDialCACertFileProblemsExit1(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	for _, file := range []string{filepath.Join(t.TempDir(), "missing.pem"), notPEM} {
		code, stdout, stderr := runSync(t, "dial", "-cacert", file, "wss://127.0.0.1:1/")
		assert.Equal(t, exitError, code)
		assert.Empty(t, stdout)
		assert.True(t, strings.HasPrefix(stderr, "tether: -cacert: "), stderr)
	}
}
