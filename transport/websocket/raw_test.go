package websocket

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// rawServer answers the upgrade request with bytes the test writes by
// hand, so it can answer wrongly on purpose. Each connection is handed to
// the test through conns after the answer went out, and closed at cleanup.
type rawServer struct {
	ln    net.Listener
	url   string
	conns chan net.Conn

	mu  sync.Mutex
	all []net.Conn
	wg  sync.WaitGroup
}

// newRawServer starts a raw server. answer gets the request and the
// Sec-WebSocket-Accept value that would be right for it; nil answer means
// the server accepts the TCP connection and never answers.
func newRawServer(t *testing.T, answer func(r *http.Request, accept string) []byte) *rawServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &rawServer{ln: ln, url: "ws://" + ln.Addr().String() + "/raw", conns: make(chan net.Conn, 16)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.all = append(s.all, c)
			s.mu.Unlock()
			if answer == nil {
				s.conns <- c
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				r, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				if _, err := c.Write(answer(r, acceptKey(r.Header.Get("Sec-WebSocket-Key")))); err != nil {
					return
				}
				s.conns <- c
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.all {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// dialRaw dials a raw server that answers with answer(accept), then echoes
// like the gobwas test server.
func dialRaw(t *testing.T, answer func(accept string) []byte) transport.Conn {
	t.Helper()
	s := newRawServer(t, func(_ *http.Request, accept string) []byte { return answer(accept) })
	c := dial(t, newTransport(t), transport.Target{URL: s.url})
	sc := <-s.conns
	go echo(&peer{t: t, conn: sc, br: bufio.NewReader(sc)})
	return c
}
