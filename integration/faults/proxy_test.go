package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
)

// toxicProxy is an in-process Toxiproxy proxy on a fixed loopback address.
// Clients dial listen; the upstream can be swapped (a restarted server on a
// new port) and the proxy disabled and enabled again on the same address.
// Its methods are called from the test goroutine.
type toxicProxy struct {
	t      testing.TB
	p      *toxiproxy.Proxy
	listen string // host:port the client dials; stays the same for the proxy's life
}

// newProxy starts a proxy in front of upstream (host:port) and stops it
// when t ends.
func newProxy(t testing.TB, upstream string) *toxicProxy {
	t.Helper()
	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(api, "tether", "127.0.0.1:0", upstream)
	require.NoError(t, p.Start())
	t.Cleanup(p.Stop)
	return &toxicProxy{t: t, p: p, listen: p.Listen}
}

// toxic is one Toxiproxy toxic: its type, the stream it acts on
// ("upstream": client to server, "downstream": server to client) and its
// attributes, as in Toxiproxy's HTTP API.
type toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]int `json:"attributes"`
}

// add adds tx to every current and future connection through the proxy.
func (x *toxicProxy) add(tx toxic) {
	x.t.Helper()
	if tx.Toxicity == 0 {
		tx.Toxicity = 1
	}
	body, err := json.Marshal(tx)
	require.NoError(x.t, err)
	_, err = x.p.Toxics.AddToxicJson(bytes.NewReader(body))
	require.NoError(x.t, err, "adding toxic %s", tx.Name)
}

// remove removes the toxic called name.
func (x *toxicProxy) remove(name string) {
	x.t.Helper()
	require.NoError(x.t, x.p.Toxics.RemoveToxic(context.Background(), name), "removing toxic %s", name)
}

// disable stops the proxy: its listener closes and every connection through
// it is closed.
func (x *toxicProxy) disable() { x.p.Stop() }

// enable starts the proxy again on the same address.
func (x *toxicProxy) enable() {
	x.t.Helper()
	require.NoError(x.t, x.p.Start())
}

// setUpstream points the proxy at a new upstream. Toxiproxy restarts its
// listener for that (on the same address), closing the connections through
// it.
func (x *toxicProxy) setUpstream(upstream string) {
	x.t.Helper()
	require.NoError(x.t, x.p.Update(&toxiproxy.Proxy{Listen: x.listen, Upstream: upstream, Enabled: true}))
}
