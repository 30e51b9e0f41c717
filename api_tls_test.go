package tether_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/transport/memory"
)

// TestClientTLSConfigTrustsAPrivateCA: trusting a private CA used to mean
// building a WebSocket transport by hand; WithTLSConfig does it on the
// default transport, and refuses to be combined with WithTransport.
func TestClientTLSConfigTrustsAPrivateCA(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		for { // wsutil answers the client's close frame
			if _, _, err := wsutil.ReadClientData(conn); err != nil {
				return
			}
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	c, err := tether.New[string]("wss"+strings.TrimPrefix(srv.URL, "https"),
		tether.WithTLSConfig(&tls.Config{RootCAs: pool}), tether.WithoutHeartbeat(), tether.WithAutoConnect(false))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx), "the private CA is trusted")
	require.NoError(t, c.CloseWith(ctx, 1001, "done"))

	mem, err := memory.NewServer()
	require.NoError(t, err)
	_, err = tether.New[string]("wss://example.invalid/", tether.WithTransport(mem.Transport()),
		tether.WithTLSConfig(&tls.Config{RootCAs: pool}), tether.WithAutoConnect(false))
	var oe *tether.OptionError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "WithTLSConfig", oe.Option)
}
