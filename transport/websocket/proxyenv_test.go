package websocket

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// proxyEnvChild names the variable that makes TestProxyFromTheEnvironment
// the child process: net/http reads the proxy variables once per process,
// so the test sets them on a process of its own.
const proxyEnvChild = "TETHER_TEST_PROXY_ENV_CHILD"

// The default proxy comes from the environment (docs/security.md): a ws://
// dial goes through HTTP_PROXY, a host in NO_PROXY is dialled directly, and
// loopback is never proxied. The parent runs the server and the CONNECT
// proxy; a child process, with the variables set, dials three targets with
// the transport's defaults; the proxy must have been asked for one.
func TestProxyFromTheEnvironment(t *testing.T) {
	if os.Getenv(proxyEnvChild) != "" {
		proxyEnvDials(t, os.Getenv(proxyEnvChild))
		return
	}
	s := newServer(t)
	px := newConnectProxy(t, s.ln.Addr().String(), 0)
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromTheEnvironment$", "-test.count=1", "-test.v")
	env := []string{proxyEnvChild + "=" + s.ln.Addr().String(), "HTTP_PROXY=" + px.url.String(),
		"NO_PROXY=listed.invalid", "REQUEST_METHOD="}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "REQUEST_METHOD", proxyEnvChild:
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	go func() { // the server's side of the two connections that reach it
		for range 2 {
			echo(s.next())
		}
	}()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child process:\n%s", out)
	require.Len(t, px.requests, 1, "the proxy was asked once")
	req := <-px.requests
	assert.Equal(t, http.MethodConnect, req.Method)
	assert.Equal(t, "proxied.invalid:80", req.Host, "only the host NO_PROXY does not list goes through the proxy")
}

// proxyEnvDials is the child's part: the three dials, with the default
// options.
func proxyEnvDials(t *testing.T, server string) {
	tr := newTransport(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// Loopback: directly to the server, although HTTP_PROXY is set.
	c := dial(t, tr, transport.Target{URL: "ws://" + server + "/feed"})
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	// Listed in NO_PROXY: directly, so the name must resolve, and .invalid
	// never does.
	_, err := tr.Dial(ctx, transport.Target{URL: "ws://listed.invalid/feed"})
	require.Error(t, err, "listed.invalid was dialled directly and cannot resolve")
	// Any other host: through the proxy, which tunnels to the server.
	c = dial(t, tr, transport.Target{URL: "ws://proxied.invalid/feed"})
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}
