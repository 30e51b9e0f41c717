package bench

import (
	"bufio"
	"context"
	"net"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tether-go/tether/transport"
	tws "github.com/tether-go/tether/transport/websocket"
)

// sender is one client under test in BenchmarkSend. open dials url through
// dial (which counts the Write calls on the connection) and returns a
// sendSession.
type sender struct {
	name string
	open func(ctx context.Context, url string, dial netDial) (sendSession, error)
}

// sendSession is one open client connection in BenchmarkSend. Its methods
// are called from the benchmark goroutine, one at a time.
type sendSession interface {
	// send writes n copies of payload from the given number of goroutines
	// and returns when every one of them has been written to the
	// connection (nothing left in a buffer).
	send(n, goroutines int, payload []byte) error
	// close drops the connection at once.
	close()
}

// senders is the table of BenchmarkSend implementations.
var senders = []sender{
	{name: "raw-gobwas", open: openRawGobwasSender},
	{name: "tether-transport", open: openTetherTransportSender},
	{name: "tether-client", open: openDefaultClientSender},
	{name: "tether-client-binary", open: openBinaryClientSender},
	{name: "tether-client-64k", open: openClientSender},
}

// sendBufferSize is the write buffer of every implementation: the 64 KiB
// bufio.Writer of the reference loop (tether's default is 4 KiB).
const sendBufferSize = 64 << 10

type netDial = func(ctx context.Context, network, addr string) (net.Conn, error)

// countingDialer returns a dial function whose connections count their
// Write calls in writes.
func countingDialer(writes *atomic.Int64) netDial {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, writes: writes}, nil
	}
}

// countingConn counts the Write calls on a net.Conn: each is one write
// system call, or a few for a buffer larger than the socket takes at once.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// raw-gobwas: the reference. One goroutine writes every message through a
// client-side wsutil.Writer (which masks) into a 64 KiB bufio.Writer, which
// goes to the connection when it fills, and once at the end. It ignores the
// goroutines argument: the target compares tether's concurrent Write with
// this single-goroutine loop.

type rawGobwasSender struct {
	nc net.Conn
	bw *bufio.Writer
	w  *wsutil.Writer
}

func openRawGobwasSender(ctx context.Context, url string, dial netDial) (sendSession, error) {
	d := ws.Dialer{NetDial: dial}
	nc, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if br != nil {
		ws.PutReader(br)
	}
	bw := bufio.NewWriterSize(nc, sendBufferSize)
	return &rawGobwasSender{nc: nc, bw: bw, w: wsutil.NewWriter(bw, ws.StateClientSide, ws.OpBinary)}, nil
}

func (s *rawGobwasSender) send(n, _ int, payload []byte) error {
	for range n {
		if _, err := s.w.Write(payload); err != nil {
			return err
		}
		if err := s.w.Flush(); err != nil {
			return err
		}
	}
	return s.bw.Flush()
}

func (s *rawGobwasSender) close() { _ = s.nc.Close() }

// tether-transport: Conn.Write from each goroutine, context.Background.

type tetherTransportSender struct {
	c transport.Conn
}

func openTetherTransportSender(ctx context.Context, url string, dial netDial) (sendSession, error) {
	tr, err := tws.New(tws.WithProxy(nil), tws.WithNetDial(dial), tws.WithWriteBufferSize(sendBufferSize))
	if err != nil {
		return nil, err
	}
	c, err := tr.Dial(ctx, transport.Target{URL: url})
	if err != nil {
		return nil, err
	}
	return &tetherTransportSender{c: c}, nil
}

func (s *tetherTransportSender) send(n, goroutines int, payload []byte) error {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		share := n / goroutines
		if g < n%goroutines {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range share {
				if err := s.c.Write(ctx, transport.Binary, payload); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func (s *tetherTransportSender) close() {
	_ = s.c.Close(transport.StatusAbnormalClosure, "")
}
