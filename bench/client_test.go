package bench

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/tether-go/tether"
	tws "github.com/tether-go/tether/transport/websocket"
)

// connRecorder wraps a dial function and keeps every connection it made,
// so a benchmark can drop a Client's connection at once, without the close
// handshake a server that never reads would not answer.
type connRecorder struct {
	dial  netDial
	mu    sync.Mutex
	conns []net.Conn
}

func newConnRecorder(dial netDial) *connRecorder {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	return &connRecorder{dial: dial}
}

func (r *connRecorder) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := r.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
	return c, nil
}

// dropAll closes every recorded connection.
func (r *connRecorder) dropAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		_ = c.Close()
	}
	r.conns = nil
}

// openBenchClient builds a tether Client[[]byte] for the throughput
// benchmarks: the WebSocket transport with the benchmark's buffer sizes and
// a recording dialer, no heartbeat (the other clients have none either) and
// no reconnect (a dropped connection closes the client, so close is quick),
// and waits until it is Open.
func openBenchClient(ctx context.Context, url string, rec *connRecorder, opts ...tws.Option) (*tether.Client[[]byte], error) {
	opts = append([]tws.Option{tws.WithProxy(nil), tws.WithNetDial(rec.DialContext)}, opts...)
	tr, err := tws.New(opts...)
	if err != nil {
		return nil, err
	}
	c, err := tether.New[[]byte](url,
		tether.WithTransport(tr),
		tether.WithoutHeartbeat(),
		tether.WithoutReconnect(),
		tether.WithAutoConnect(false),
	)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		closeBenchClient(c, rec)
		return nil, err
	}
	return c, nil
}

// closeBenchClient drops the client's connection and waits until the
// client has stopped every goroutine it started.
func closeBenchClient(c *tether.Client[[]byte], rec *connRecorder) {
	rec.dropAll()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = c.Close(ctx)
}
