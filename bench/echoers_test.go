package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tether-go/tether/transport"
	tws "github.com/tether-go/tether/transport/websocket"
)

// echoClient is one client under test in BenchmarkEcho. open dials url, a
// server that sends every message back.
type echoClient struct {
	name string
	open func(ctx context.Context, url string) (echoSession, error)
}

// echoSession is one open client connection in BenchmarkEcho. Its methods
// are called from the benchmark goroutine, one at a time.
type echoSession interface {
	// roundTrip writes payload as one binary message and reads its echo.
	roundTrip(payload []byte) error
	// close drops the connection at once.
	close()
}

// echoClients is the table of BenchmarkEcho implementations.
var echoClients = []echoClient{
	{name: "raw-gobwas", open: openRawGobwasEcho},
	{name: "tether-transport", open: openTetherTransportEcho},
}

// raw-gobwas: a client-side wsutil.Writer into a bufio.Writer flushed per
// message; the echo read by a reused wsutil.Reader into a reused buffer.

type rawGobwasEcho struct {
	nc  net.Conn
	bw  *bufio.Writer
	w   *wsutil.Writer
	rd  wsutil.Reader
	buf []byte
}

func openRawGobwasEcho(ctx context.Context, url string) (echoSession, error) {
	d := ws.Dialer{ReadBufferSize: readBufferSize, WriteBufferSize: 4096}
	nc, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	var src io.Reader = br
	if br == nil {
		src = bufio.NewReaderSize(nc, readBufferSize)
	}
	bw := bufio.NewWriterSize(nc, 4096)
	return &rawGobwasEcho{
		nc:  nc,
		bw:  bw,
		w:   wsutil.NewWriter(bw, ws.StateClientSide, ws.OpBinary),
		rd:  wsutil.Reader{Source: src, State: ws.StateClientSide},
		buf: make([]byte, 4096),
	}, nil
}

func (s *rawGobwasEcho) roundTrip(payload []byte) error {
	if _, err := s.w.Write(payload); err != nil {
		return err
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	if err := s.bw.Flush(); err != nil {
		return err
	}
	h, err := s.rd.NextFrame()
	if err != nil {
		return err
	}
	if h.OpCode != ws.OpBinary || !h.Fin || h.Length > int64(cap(s.buf)) {
		return fmt.Errorf("%w: %v fin=%t length %d", errWrongMessage, h.OpCode, h.Fin, h.Length)
	}
	p := s.buf[:h.Length]
	if _, err := io.ReadFull(&s.rd, p); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return checkMessage(len(p), len(payload))
}

func (s *rawGobwasEcho) close() { _ = s.nc.Close() }

// tether-transport: Conn.Write then Conn.Read on the same goroutine.

type tetherTransportEcho struct {
	c transport.Conn
}

func openTetherTransportEcho(ctx context.Context, url string) (echoSession, error) {
	tr, err := tws.New(tws.WithProxy(nil))
	if err != nil {
		return nil, err
	}
	c, err := tr.Dial(ctx, transport.Target{URL: url})
	if err != nil {
		return nil, err
	}
	return &tetherTransportEcho{c: c}, nil
}

func (s *tetherTransportEcho) roundTrip(payload []byte) error {
	if err := s.c.Write(context.Background(), transport.Binary, payload); err != nil {
		return err
	}
	m, err := s.c.Read()
	if err != nil {
		return err
	}
	if m.Type != transport.Binary {
		return fmt.Errorf("%w: %v", errWrongMessage, m.Type)
	}
	return checkMessage(len(m.Payload), len(payload))
}

func (s *tetherTransportEcho) close() {
	_ = s.c.Close(transport.StatusAbnormalClosure, "")
}
