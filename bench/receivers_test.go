package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/tether-go/tether/transport"
	tws "github.com/tether-go/tether/transport/websocket"
)

// receiver is one client under test in BenchmarkReceive.
//
// To add one, append an entry to receivers: open dials url, where a server sends
// size-byte binary messages without end, and returns a session ready to
// receive. The benchmark times session.receive only.
type receiver struct {
	name string
	open func(ctx context.Context, url string, size int) (session, error)
}

// session is one open client connection in BenchmarkReceive. Its methods
// are called from the benchmark goroutine, one at a time.
type session interface {
	// receive returns once n messages have been delivered to the code
	// that consumes them, each checked to be size bytes long. It is called
	// once per session.
	receive(n int) error
	// close drops the connection at once, without a close handshake, and
	// returns when every goroutine the session started has ended.
	close()
}

// receivers is the table of BenchmarkReceive implementations. raw-gobwas
// comes first: it is the reference the ratios are computed against.
var receivers = []receiver{
	{name: "raw-gobwas", open: openRawGobwas},
	{name: "raw-gobwas-owned", open: openRawGobwasOwned},
	{name: "tether-transport", open: openTetherTransport},
	{name: "tether-raw", open: openClientRaw},
	{name: "tether-all", open: openClientAll},
	{name: "tether-chan", open: openClientChan},
	{name: "tether-onmessage", open: openClientOnMessage},
	{name: "tether-rx", open: openClientRx},
	{name: "gorilla", open: openGorilla},
	{name: "coder", open: openCoder},
	{name: "gws", open: openGWS},
}

// readBufferSize is the read buffer every client is given (each library's
// default is 4 KiB as well).
const readBufferSize = 4096

var errWrongMessage = errors.New("bench: unexpected message")

func checkMessage(got, want int) error {
	if got != want {
		return fmt.Errorf("%w: %d bytes, want %d", errWrongMessage, got, want)
	}
	return nil
}

// raw-gobwas: a reused wsutil.Reader over a 4 KiB bufio.Reader, each
// message read into a reused buffer.

type rawGobwasSession struct {
	nc   net.Conn
	rd   wsutil.Reader
	buf  []byte
	size int
	// owned makes each message a fresh copy (kept until the next one), as
	// a consumer that owns its bytes needs.
	owned bool
	last  []byte
}

// openRawGobwasOwned is raw-gobwas-owned: the raw loop plus a copy of each
// message into memory of its own, the least any consumer that may keep
// its bytes pays. It is the reference for the Client's owned-bytes paths.
func openRawGobwasOwned(ctx context.Context, url string, size int) (session, error) {
	s, err := openRawGobwas(ctx, url, size)
	if err != nil {
		return nil, err
	}
	s.(*rawGobwasSession).owned = true
	return s, nil
}

func openRawGobwas(ctx context.Context, url string, size int) (session, error) {
	d := ws.Dialer{ReadBufferSize: readBufferSize, WriteBufferSize: 4096}
	nc, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	// br, when not nil, is a bufio.Reader over nc holding the first frames:
	// keep reading through it.
	var src io.Reader = br
	if br == nil {
		src = bufio.NewReaderSize(nc, readBufferSize)
	}
	return &rawGobwasSession{
		nc:   nc,
		rd:   wsutil.Reader{Source: src, State: ws.StateClientSide},
		buf:  make([]byte, size),
		size: size,
	}, nil
}

func (s *rawGobwasSession) receive(n int) error {
	for range n {
		h, err := s.rd.NextFrame()
		if err != nil {
			return err
		}
		if h.OpCode.IsControl() || !h.Fin {
			return fmt.Errorf("%w: %v fin=%t", errWrongMessage, h.OpCode, h.Fin)
		}
		if int64(cap(s.buf)) < h.Length {
			s.buf = make([]byte, h.Length)
		}
		s.buf = s.buf[:h.Length]
		if _, err := io.ReadFull(&s.rd, s.buf); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if s.owned {
			s.last = bytes.Clone(s.buf)
		}
		if err := checkMessage(len(s.buf), s.size); err != nil {
			return err
		}
	}
	return nil
}

func (s *rawGobwasSession) close() { _ = s.nc.Close() }

// tether-transport: transport/websocket's Conn.Read, payload borrowed.

type tetherTransportSession struct {
	c    transport.Conn
	size int
}

func openTetherTransport(ctx context.Context, url string, size int) (session, error) {
	tr, err := tws.New(tws.WithProxy(nil), tws.WithReadBufferSize(readBufferSize))
	if err != nil {
		return nil, err
	}
	c, err := tr.Dial(ctx, transport.Target{URL: url})
	if err != nil {
		return nil, err
	}
	return &tetherTransportSession{c: c, size: size}, nil
}

func (s *tetherTransportSession) receive(n int) error {
	for range n {
		m, err := s.c.Read()
		if err != nil {
			return err
		}
		if m.Type != transport.Binary {
			return fmt.Errorf("%w: %v", errWrongMessage, m.Type)
		}
		if err := checkMessage(len(m.Payload), s.size); err != nil {
			return err
		}
	}
	return nil
}

func (s *tetherTransportSession) close() {
	_ = s.c.Close(transport.StatusAbnormalClosure, "")
}

// readInto reads r to its end into buf, reusing its capacity.
func readInto(buf []byte, r io.Reader) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// gorilla: the NextReader loop, each message read into a reused buffer.

type gorillaSession struct {
	c    *gorilla.Conn
	buf  []byte
	size int
}

func openGorilla(ctx context.Context, url string, size int) (session, error) {
	d := gorilla.Dialer{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   readBufferSize,
		WriteBufferSize:  4096,
	}
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	return &gorillaSession{c: c, buf: make([]byte, 0, size+1), size: size}, nil
}

func (s *gorillaSession) receive(n int) error {
	for range n {
		typ, r, err := s.c.NextReader()
		if err != nil {
			return err
		}
		if typ != gorilla.BinaryMessage {
			return fmt.Errorf("%w: type %d", errWrongMessage, typ)
		}
		if s.buf, err = readInto(s.buf, r); err != nil {
			return err
		}
		if err := checkMessage(len(s.buf), s.size); err != nil {
			return err
		}
	}
	return nil
}

func (s *gorillaSession) close() { _ = s.c.Close() } // no close handshake in gorilla's Close

// coder: the Reader loop with context.Background (no per-read timeout),
// each message read into a reused buffer.

type coderSession struct {
	c    *coder.Conn
	buf  []byte
	size int
}

func openCoder(ctx context.Context, url string, size int) (session, error) {
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}}
	c, _, err := coder.Dial(ctx, url, &coder.DialOptions{
		HTTPClient:      hc,
		CompressionMode: coder.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(int64(size) + 1<<20)
	return &coderSession{c: c, buf: make([]byte, 0, size+1), size: size}, nil
}

func (s *coderSession) receive(n int) error {
	ctx := context.Background()
	for range n {
		typ, r, err := s.c.Reader(ctx)
		if err != nil {
			return err
		}
		if typ != coder.MessageBinary {
			return fmt.Errorf("%w: type %v", errWrongMessage, typ)
		}
		if s.buf, err = readInto(s.buf, r); err != nil {
			return err
		}
		if err := checkMessage(len(s.buf), s.size); err != nil {
			return err
		}
	}
	return nil
}

func (s *coderSession) close() { _ = s.c.CloseNow() }

// gws: callback based. receive starts the ReadLoop and returns at the n-th
// OnMessage call; each message is returned to gws's pool. The n-th call
// then parks the ReadLoop until close, so gws does not go on reading while
// the benchmark stops its timer.

type gwsSession struct {
	gws.BuiltinEventHandler
	c    *gws.Conn
	size int

	want   int64         // set before the ReadLoop starts
	got    int64         // owned by the ReadLoop goroutine
	done   chan struct{} // receives one value: want reached, or the loop ended
	park   chan struct{} // closed by close, to let the ReadLoop go on and end
	failed atomic.Pointer[error]
	loop   sync.WaitGroup
}

func openGWS(_ context.Context, url string, size int) (session, error) {
	s := &gwsSession{size: size, done: make(chan struct{}, 1), park: make(chan struct{})}
	c, resp, err := gws.NewClient(s, &gws.ClientOption{
		Addr:               url,
		ReadBufferSize:     readBufferSize,
		ReadMaxPayloadSize: size + 1<<20,
		HandshakeTimeout:   10 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	s.c = c
	return s, nil
}

// OnMessage is called by the gws ReadLoop goroutine.
func (s *gwsSession) OnMessage(_ *gws.Conn, m *gws.Message) {
	if m.Opcode != gws.OpcodeBinary || m.Data.Len() != s.size {
		err := checkMessage(m.Data.Len(), s.size)
		if err == nil {
			err = fmt.Errorf("%w: opcode %d", errWrongMessage, m.Opcode)
		}
		s.failed.CompareAndSwap(nil, &err)
	}
	_ = m.Close()
	s.got++
	if s.got == s.want {
		s.done <- struct{}{}
		<-s.park
	}
}

// OnClose is called by the gws ReadLoop goroutine when it ends.
func (s *gwsSession) OnClose(_ *gws.Conn, err error) {
	if s.got < s.want {
		s.failed.CompareAndSwap(nil, &err)
		s.done <- struct{}{}
	}
}

// receive may be called once per gwsSession.
func (s *gwsSession) receive(n int) error {
	s.want = int64(n)
	s.loop.Add(1)
	go func() {
		defer s.loop.Done()
		s.c.ReadLoop()
	}()
	<-s.done
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *gwsSession) close() {
	_ = s.c.NetConn().Close()
	close(s.park)
	s.loop.Wait()
}
