package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
)

// floodServer is a WebSocket server that sends each client a flood of text
// messages as fast as the client reads them, answers the client's pings
// and reports each one. It is what a feed looks like to a CLI whose
// standard output nobody reads.
type floodServer struct {
	url string
	// sent is closed once the first connection's flood is written to the
	// socket: the client has read all but what the socket buffers hold.
	sent chan struct{}
	// pings receives one value per ping from the client, answered.
	pings chan struct{}
}

// newFloodServer starts a server whose flood is count messages of size
// bytes. Cleanup closes it and waits for its goroutines.
func newFloodServer(t *testing.T, count, size int) *floodServer {
	t.Helper()
	fs := &floodServer{sent: make(chan struct{}), pings: make(chan struct{}, 1024)}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
		once  sync.Once
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1) // Close does not wait for a hijacked connection's handler
		defer wg.Done()
		conn, rw, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		mu.Lock()
		conns = append(conns, conn)
		mu.Unlock()
		var wmu sync.Mutex // one writer at a time: frames never interleave
		write := func(f ws.Frame) error {
			wmu.Lock()
			defer wmu.Unlock()
			return ws.WriteFrame(conn, f)
		}
		wg.Go(func() {
			payload := bytes.Repeat([]byte("x"), size)
			for range count {
				if write(ws.NewTextFrame(payload)) != nil {
					return
				}
			}
			once.Do(func() { close(fs.sent) })
		})
		for {
			h, err := ws.ReadHeader(rw.Reader)
			if err != nil {
				return
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(rw.Reader, p); err != nil {
				return
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpPing:
				_ = write(ws.NewPongFrame(p))
				select {
				case fs.pings <- struct{}{}:
				default:
				}
			case ws.OpClose:
				_ = write(ws.NewCloseFrame(p))
				return
			}
		}
	}))
	t.Cleanup(func() {
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		srv.Close()
		wg.Wait()
	})
	fs.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return fs
}

// pingsAfter drains the pings received so far, then waits for n more.
// Test goroutine only.
func (fs *floodServer) pingsAfter(t *testing.T, n int) {
	t.Helper()
	for drained := false; !drained; {
		select {
		case <-fs.pings:
		default:
			drained = true
		}
	}
	for range n {
		recvWithin(t, fs.pings, "a heartbeat ping from the client")
	}
}
