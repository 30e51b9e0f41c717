package bench

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/internal/feedtest"
	tws "github.com/tether-go/tether/transport/websocket"
)

// BenchmarkCompressionIdle is BenchmarkIdle for tether Clients with
// permessage-deflate: heap, stack and goroutines per idle open connection
// with the heartbeat on, after the server (a helper process) sent each
// one a burst of the feed (idleBurst messages, about 40 KB of JSON, more
// than a 32 KiB window), compressed as negotiated. impl=tether is the same
// Client without compression. N is TETHER_BENCH_IDLE_CONNS (default 50,
// 10,000 with TETHER_BENCH_FULL), at most TETHER_BENCH_IDLE_CLIENT_TAKEOVER
// for impl=tether-deflate-client-takeover (default 50, 1,000 with
// TETHER_BENCH_FULL), whose compress/flate writer is about 1.2 MB.
func BenchmarkCompressionIdle(b *testing.B) {
	nTakeover := min(size(b, idleConnsEnv, 50, 10000), size(b, idleClientTakeoverEnv, 50, 1000))
	n, hb := idleSetup(b)
	for _, ic := range compressionIdleClients {
		conns := n
		if ic.name == "tether-deflate-client-takeover" {
			conns = min(n, nTakeover)
		}
		b.Run(fmt.Sprintf("conns=%d/impl=%s", conns, ic.name), func(b *testing.B) {
			benchIdle(b, ic, conns, hb)
		})
	}
}

// idleClientTakeoverEnv bounds the connections of the client-takeover row.
const idleClientTakeoverEnv = "TETHER_BENCH_IDLE_CLIENT_TAKEOVER"

// idleBurst is how many feed messages the helper sends each connection.
const idleBurst = 400

var compressionIdleClients = []idleClient{
	{name: "tether", server: helperWSDeflate, path: "/", open: openTetherDeflateIdle(false)},
	{name: "tether-deflate", server: helperWSDeflate, path: "/",
		open: openTetherDeflateIdle(false, tws.WithCompression(tws.Compression{}))},
	{name: "tether-deflate-window10", server: helperWSDeflate, path: "/",
		open: openTetherDeflateIdle(false, tws.WithCompression(tws.Compression{ServerMaxWindowBits: 10}))},
	{name: "tether-deflate-nct", server: helperWSDeflate, path: "/",
		open: openTetherDeflateIdle(false, tws.WithCompression(tws.Compression{ServerNoContextTakeover: true}))},
	{name: "tether-deflate-client-takeover", server: helperWSDeflate, path: "/",
		open: openTetherDeflateIdle(true, tws.WithCompression(tws.Compression{ClientContextTakeover: true}))},
}

// openTetherDeflateIdle opens a Client like openTetherIdle, with a
// transport of opts, that waits for the helper's burst before it returns
// (and discards it in OnMessage); with send, it then sends one message of
// the feed, so that its compressor exists.
func openTetherDeflateIdle(send bool, opts ...tws.Option) func(ctx context.Context, url string, hb heartbeat, hooks idleHooks) (idleConn, error) {
	return func(ctx context.Context, url string, hb heartbeat, hooks idleHooks) (idleConn, error) {
		tr, err := tws.New(opts...)
		if err != nil {
			return nil, err
		}
		var got atomic.Int64
		burst := make(chan struct{})
		t, err := newTetherIdle(ctx, url, hb, hooks, tether.WithTransport(tr),
			tether.OnMessage(func([]byte) {
				if got.Add(1) == idleBurst {
					close(burst)
				}
			}))
		if err != nil {
			return nil, err
		}
		select {
		case <-burst:
		case <-ctx.Done():
			t.close()
			return nil, fmt.Errorf("the burst did not arrive: %d of %d messages", got.Load(), idleBurst)
		}
		if send {
			if err := t.c.Send(ctx, feedtest.Batch(0, 10)); err != nil {
				t.close()
				return nil, err
			}
		}
		return t, nil
	}
}

// serveDeflateWS is the helperWSDeflate server: it accepts
// permessage-deflate as offered, sends the burst (compressed with one
// context unless the client asked for server_no_context_takeover or a
// smaller server window, since compress/flate cannot keep to one; each
// message then alone, all shorter than any window), then serves like
// serveWS.
func serveDeflateWS(c net.Conn) {
	defer c.Close()
	p, err := upgradeDeflate(c)
	if err != nil {
		return
	}
	if _, err := c.Write(idleBurstFrames(p)); err != nil {
		return
	}
	serveFrames(c, ws.StateServerSide|ws.StateExtended)
}

// idleBurstFrames returns the burst as frames for the parameters p, built
// once per kind and shared by every connection.
func idleBurstFrames(p *wsflate.Parameters) []byte {
	kind := "plain"
	if p != nil {
		kind = "takeover"
		if p.ServerNoContextTakeover || p.ServerMaxWindowBits.Defined() && p.ServerMaxWindowBits < 15 {
			kind = "alone"
			p = &wsflate.Parameters{ServerNoContextTakeover: true}
		}
	}
	burstFrames.Lock()
	defer burstFrames.Unlock()
	if b, ok := burstFrames.byKind[kind]; ok {
		return b
	}
	msgs := make([][]byte, idleBurst)
	for i := range msgs {
		msgs[i] = feedtest.Message(i)
	}
	b := compressedCycle(msgs, p)
	if burstFrames.byKind == nil {
		burstFrames.byKind = map[string][]byte{}
	}
	burstFrames.byKind[kind] = b
	return b
}

var burstFrames struct {
	sync.Mutex
	byKind map[string][]byte
}
