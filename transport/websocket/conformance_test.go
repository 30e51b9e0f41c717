package websocket_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/transporttest"
	"github.com/tether-go/tether/transport/websocket"
)

// conformanceProtocol is the subprotocol the conformance server selects.
const conformanceProtocol = "tether.conformance"

// TestConformance checks the WebSocket transport against the transport
// contract, over a real loopback server.
func TestConformance(t *testing.T) { runConformance(t) }

// TestConformanceCompressionOffered runs the suite with permessage-deflate
// offered to a server that declines it (tethertest.WSServer negotiates no
// extension): the offer changes nothing of the contract. The compressed
// paths are checked in compression_test.go and against ws in integration.
func TestConformanceCompressionOffered(t *testing.T) {
	runConformance(t, websocket.WithCompression(websocket.Compression{}))
}

func runConformance(t *testing.T, opts ...websocket.Option) {
	transporttest.Run(t, func(t *testing.T) transporttest.Harness {
		srv := tethertest.NewWSServer(tethertest.WithServerSubprotocols(conformanceProtocol))
		t.Cleanup(srv.Close)
		tr, err := websocket.New(opts...)
		require.NoError(t, err)
		return transporttest.Harness{
			Transport: tr,
			Target:    transport.Target{URL: srv.URL + "/feed"},
			Accept: func(ctx context.Context) (transporttest.Peer, error) {
				c, err := srv.Accept(ctx)
				if err != nil {
					return nil, err
				}
				return wsPeer{c}, nil
			},
			Hang:        func() transporttest.HungDial { return transporttest.SilentServer(t, "ws") },
			Subprotocol: conformanceProtocol,
			Caps:        transporttest.Capabilities{Ping: true, PeerPing: true, CloseHandshake: true},
		}
	})
}

// wsPeer is a tethertest.WSConn as a transporttest.Peer. Its writes do not
// wait for a ctx: they block only while the socket buffers are full, and
// the reader of every check keeps them from filling.
type wsPeer struct{ *tethertest.WSConn }

func (p wsPeer) Send(_ context.Context, typ transport.MessageType, payload []byte) error {
	return p.WSConn.Send(typ, payload)
}

func (p wsPeer) Ping(_ context.Context, payload []byte) error { return p.WSConn.Ping(payload) }

func (p wsPeer) Close(code transport.StatusCode, reason string) { _ = p.WSConn.Close(code, reason) }
