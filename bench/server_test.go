package bench

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// server is a loopback WebSocket server for one benchmark run. It accepts
// connections on 127.0.0.1, upgrades them with gobwas/ws, and hands each to
// handle on its own goroutine. Everything handle needs in the steady state
// is allocated before the server starts, so the server adds no allocations
// to the client's figures.
type server struct {
	ln     net.Listener
	url    string
	handle func(net.Conn)

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// startServer starts a server and registers its shutdown with tb.Cleanup.
func startServer(tb testing.TB, handle func(net.Conn)) *server {
	return startServerWith(tb, func(c net.Conn) {
		if _, err := ws.Upgrade(c); err != nil {
			return
		}
		handle(c)
	})
}

// startServerWith is startServer for a handler that upgrades the
// connection itself.
func startServerWith(tb testing.TB, handle func(net.Conn)) *server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &server{ln: ln, url: "ws://" + ln.Addr().String() + "/", handle: handle}
	s.wg.Add(1)
	go s.accept()
	tb.Cleanup(s.close)
	return s
}

func (s *server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.handle(c)
		}()
	}
}

// close stops accepting, closes every connection and waits for the
// handlers to return.
func (s *server) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// feedBlobSize is about how many bytes of frames a feeder writes per
// Write call: large, so the server's cost per message is small beside the
// client's.
const feedBlobSize = 256 << 10

// serverFrames returns whole unmasked binary frames of size-byte payloads,
// at least feedBlobSize bytes of them, as a server sends them.
func serverFrames(size int) []byte {
	var one bytes.Buffer
	payload := bytes.Repeat([]byte{'x'}, size)
	if err := ws.WriteFrame(&one, ws.NewBinaryFrame(payload)); err != nil {
		panic(err) // writing to a bytes.Buffer does not fail
	}
	n := max(1, feedBlobSize/one.Len())
	return bytes.Repeat(one.Bytes(), n)
}

// feeder returns a handler that writes blob again and again until the
// connection fails (the client hung up).
func feeder(blob []byte) func(net.Conn) {
	return func(c net.Conn) {
		for {
			if _, err := c.Write(blob); err != nil {
				return
			}
		}
	}
}

// discarder returns a handler that reads every frame and drops the data,
// as a server that consumes a feed does: it answers pings (RFC 6455 says a
// peer must, and a client that confirms its writes with pings relies on
// it) and ends at a close frame. It parses headers and skips payloads, so
// the data costs it no copy.
func discarder() func(net.Conn) {
	return func(c net.Conn) {
		rd := wsutil.Reader{Source: bufio.NewReaderSize(c, 256<<10), State: ws.StateServerSide}
		var ping [ws.MaxControlFramePayloadSize]byte
		for {
			h, err := rd.NextFrame()
			if err != nil {
				return
			}
			switch h.OpCode {
			case ws.OpPing:
				p := ping[:h.Length]
				if _, err := io.ReadFull(&rd, p); err != nil && !errors.Is(err, io.EOF) {
					return
				}
				// One write, as a server writes a frame: a header and a
				// payload written apart cost the shared cores a system call
				// more a ping, charged to the rows that ping.
				pong, err := ws.CompileFrame(ws.NewPongFrame(p))
				if err != nil {
					return
				}
				if _, err := c.Write(pong); err != nil {
					return
				}
			case ws.OpClose:
				return
			default:
				if rd.Discard() != nil {
					return
				}
			}
		}
	}
}

// echoer returns a handler that sends every data message back, one frame
// per message, flushed at once. Control frames are dropped; a close frame
// ends it.
func echoer(maxSize int) func(net.Conn) {
	buf := make([]byte, maxSize)
	var hdr [ws.MaxHeaderSize]byte
	return func(c net.Conn) {
		rd := wsutil.Reader{Source: bufio.NewReaderSize(c, 4096), State: ws.StateServerSide}
		bw := bufio.NewWriterSize(c, 4096)
		for {
			h, err := rd.NextFrame()
			if err != nil {
				return
			}
			if h.OpCode.IsControl() {
				if h.OpCode == ws.OpClose || rd.Discard() != nil {
					return
				}
				continue
			}
			if h.Length > int64(len(buf)) || !h.Fin {
				return
			}
			p := buf[:h.Length]
			if _, err := io.ReadFull(&rd, p); err != nil && !errors.Is(err, io.EOF) {
				return
			}
			if ws.WriteHeaderBuffer(bw, ws.Header{Fin: true, OpCode: h.OpCode, Length: h.Length}, hdr[:]) != nil {
				return
			}
			if _, err := bw.Write(p); err != nil {
				return
			}
			if bw.Flush() != nil {
				return
			}
		}
	}
}
