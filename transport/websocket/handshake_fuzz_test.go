package websocket

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tether-go/tether/transport"
)

// acceptMark in a fuzzed answer stands for the Sec-WebSocket-Accept that
// matches the key the client sent, so that valid answers are reached.
const acceptMark = "@ACCEPT@"

// FuzzHandshakeResponse feeds arbitrary bytes to Dial as the server's
// answer to the upgrade request: head once, then tail over and over,
// forever (or, when tail is empty, the end of the stream). Dial must
// return within its timeout, never panic, and give a usable connection or
// a typed error; and it must never read more of the answer than the
// bounds allow (counted at the connection, not from heap statistics).
func FuzzHandshakeResponse(f *testing.F) {
	const (
		valid    = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptMark + "\r\n"
		refusal  = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
		switches = "HTTP/1.1 101 Switching Protocols\r\n"
	)
	for _, seed := range []struct {
		head string
		tail string
	}{
		// The cases found: answers that never end.
		{head: switches + "Upgrade: websocket\r\nX-Flood: ", tail: "a"},
		{head: refusal + "X-Flood: ", tail: "a"},
		{head: "HTTP/1.1 101 ", tail: "S"},
		{head: switches, tail: "X-A: b\r\n"},
		{head: refusal, tail: "X-A: b\r\n"},
		{head: "HTTP/1.1 101 OK\n", tail: "A: b\n"},
		{head: switches, tail: "\r"},
		{head: refusal, tail: "X-Long: " + string(bytes.Repeat([]byte("v"), 9000)) + "\r\n"},
		// Endless bodies and frames after complete headers.
		{head: refusal + "Content-Length: 99999999999\r\n\r\n", tail: "b"},
		{head: refusal + "Transfer-Encoding: chunked\r\n\r\n", tail: "1\r\nb\r\n"},
		{head: refusal + "Transfer-Encoding: chunked\r\n\r\n", tail: "1;ext=vvvvvvvvvvvvvvvv\r\nb\r\n"},
		{head: valid + "\r\n", tail: "\x81\x01a"},
		// Answers that end.
		{head: valid + "\r\n", tail: ""},
		{head: valid + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", tail: ""},
		{head: valid + "Sec-WebSocket-Protocol: chat\r\n\r\n", tail: ""},
		{head: switches + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n", tail: ""},
		{head: "HTTP/1.0 101 Switching Protocols\r\n\r\n", tail: ""},
		{head: "HTTP/1.1 000 x\r\n\r\n", tail: ""},
		{head: "SSH-2.0-OpenSSH_9.6\r\n", tail: ""},
		{head: switches + "Upgrade: websocket\r\nConn", tail: ""},
		{head: "", tail: ""},
	} {
		f.Add([]byte(seed.head), []byte(seed.tail))
	}
	f.Fuzz(func(t *testing.T, head, tail []byte) {
		sc := &scriptConn{head: head, tail: tail}
		tr, err := New(
			WithDialTimeout(2*time.Second),
			WithProxy(nil),
			WithNetDial(func(context.Context, string, string) (net.Conn, error) { return sc, nil }),
		)
		if err != nil {
			t.Fatal(err)
		}
		var (
			c    transport.Conn
			derr error
			done = make(chan struct{})
		)
		go func() {
			defer close(done)
			c, derr = tr.Dial(context.Background(), transport.Target{URL: "ws://fuzz.example/"})
		}()
		select {
		case <-done:
		case <-time.After(wait):
			t.Fatal("Dial did not return")
		}
		if n := sc.consumed.Load(); n > MaxHandshakeBytes+bodyReadLimit {
			t.Fatalf("Dial read %d bytes of the answer, more than the bounds allow (%d)",
				n, MaxHandshakeBytes+bodyReadLimit)
		}
		if derr != nil {
			if c != nil {
				t.Fatal("Dial returned a connection and an error")
			}
			checkDialError(t, derr)
			return
		}
		if c == nil {
			t.Fatal("Dial returned neither a connection nor an error")
		}
		if c.Err() != nil || c.Subprotocol() != "" {
			t.Fatalf("connection not usable: Err %v, subprotocol %q", c.Err(), c.Subprotocol())
		}
		_ = c.Close(transport.StatusAbnormalClosure, "") // abort: no close handshake
	})
}

// checkDialError accepts only the typed errors of a dial whose answer
// came from an in-memory connection.
func checkDialError(t *testing.T, err error) {
	t.Helper()
	var he *transport.HandshakeError
	switch {
	case errors.As(err, &he):
		if len(he.Body) > transport.BodyExcerptLimit || !utf8.ValidString(he.Body) {
			t.Fatalf("body excerpt of %d bytes, valid UTF-8 %v", len(he.Body), utf8.ValidString(he.Body))
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
	case errors.Is(err, transport.ErrTimeout):
	default:
		t.Fatalf("untyped dial error: %v", err)
	}
}

// scriptConn is the server's side of a fuzzed dial, in memory: it takes
// the upgrade request, then answers with head (acceptMark replaced) and
// tail repeated forever, or the end of the stream when tail is empty.
// Reads never block; they honour the read deadline, which is how the
// dial's timeout interrupts a read. consumed counts the bytes read.
type scriptConn struct {
	head, tail []byte
	consumed   atomic.Int64
	deadline   atomic.Int64 // UnixNano of the read deadline, 0 for none
	closed     atomic.Bool

	mu  sync.Mutex // guards req and in
	req bytes.Buffer
	in  io.Reader
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	if d := c.deadline.Load(); d != 0 && time.Now().UnixNano() >= d {
		return 0, os.ErrDeadlineExceeded
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.in == nil {
		c.in = c.answer()
	}
	n, err := c.in.Read(p)
	c.consumed.Add(int64(n))
	return n, err
}

// answer builds the answer to the request written so far, mu held.
func (c *scriptConn) answer() io.Reader {
	head := c.head
	if r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(c.req.Bytes()))); err == nil {
		head = bytes.ReplaceAll(head, []byte(acceptMark), []byte(acceptKey(r.Header.Get("Sec-WebSocket-Key"))))
	}
	if len(c.tail) == 0 {
		return bytes.NewReader(head)
	}
	return io.MultiReader(bytes.NewReader(head), &loopReader{data: c.tail})
}

func (c *scriptConn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.req.Write(p)
}

func (c *scriptConn) SetDeadline(d time.Time) error { return c.SetReadDeadline(d) }

func (c *scriptConn) SetReadDeadline(d time.Time) error {
	var ns int64
	if !d.IsZero() {
		ns = d.UnixNano()
	}
	c.deadline.Store(ns)
	return nil
}

func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }
func (c *scriptConn) Close() error                     { c.closed.Store(true); return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return memAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return memAddr{} }
