package websocket

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// floodCap is the most a flood server writes. A client that read its
// answer without a bound would take all of it: the tests assert the
// server wrote far less before the client hung up.
const floodCap = 64 << 20

// floodServer answers every request (an upgrade, or a proxy's CONNECT)
// with head, then, on the first connection, writes unit over and over
// until the client hangs up or floodCap bytes are written. written
// receives the bytes written after head.
type floodServer struct {
	*rawServer
	addr    string
	written chan int64
}

func newFloodServer(t *testing.T, head, unit string) *floodServer {
	stop, done := make(chan struct{}), make(chan struct{})
	// Registered before the raw server's cleanup, so it runs after it:
	// the connection is closed by then, which ends a blocked Write.
	t.Cleanup(func() {
		close(stop)
		<-done
	})
	raw := newRawServer(t, func(*http.Request, string) []byte { return []byte(head) })
	s := &floodServer{rawServer: raw, addr: raw.ln.Addr().String(), written: make(chan int64, 1)}
	block := []byte(strings.Repeat(unit, max(1, (32<<10)/len(unit))))
	go func() {
		defer close(done)
		select {
		case c := <-s.conns:
			var total int64
			var err error
			for err == nil && total < floodCap {
				var n int
				n, err = c.Write(block)
				total += int64(n)
			}
			c.Close()
			s.written <- total
		case <-stop:
		}
	}()
	return s
}

// wrote returns the bytes the server wrote before the client hung up.
func (s *floodServer) wrote(t *testing.T) int64 {
	t.Helper()
	select {
	case n := <-s.written:
		return n
	case <-time.After(wait):
		require.FailNow(t, "the flood server did not stop writing")
		return 0
	}
}

// TestEndlessAnswerEndsTheDial: an answer that never ends (a header line,
// the status line, header lines without end, on a 101 and on a refusal)
// fails the dial with an error naming the bound, as soon as the bound is
// passed (not at the dial timeout), and the client stopped reading: the
// server could write only about the bound plus what the socket buffers
// hold.
func TestEndlessAnswerEndsTheDial(t *testing.T) {
	line := strings.Repeat("v", 8000)
	for _, tc := range []struct {
		name   string
		head   string
		unit   string
		status int
		bound  string
	}{
		{
			name:   "header line on 101",
			head:   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-Flood: ",
			unit:   "a",
			status: 0,
			bound:  fmt.Sprintf("header line longer than %d bytes", MaxHandshakeLine),
		},
		{
			name:   "header line on 429",
			head:   "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nX-Flood: ",
			unit:   "a",
			status: http.StatusTooManyRequests,
			bound:  fmt.Sprintf("header line longer than %d bytes", MaxHandshakeLine),
		},
		{
			name:   "status line",
			head:   "HTTP/1.1 101 ",
			unit:   "S",
			status: 0,
			bound:  fmt.Sprintf("status line longer than %d bytes", MaxHandshakeLine),
		},
		{
			name:   "small headers on 101",
			head:   "HTTP/1.1 101 Switching Protocols\r\n",
			unit:   "X-A: b\r\n",
			status: 0,
			bound:  fmt.Sprintf("more than %d header lines", MaxHandshakeHeaders),
		},
		{
			name:   "small headers on 429",
			head:   "HTTP/1.1 429 Too Many Requests\r\n",
			unit:   "X-A: b\r\n",
			status: http.StatusTooManyRequests,
			bound:  fmt.Sprintf("more than %d header lines", MaxHandshakeHeaders),
		},
		{
			name:   "long headers on 503",
			head:   "HTTP/1.1 503 Service Unavailable\r\n",
			unit:   "X-Long: " + line + "\r\n",
			status: http.StatusServiceUnavailable,
			bound:  fmt.Sprintf("status line and headers longer than %d bytes", MaxHandshakeBytes),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFloodServer(t, tc.head, tc.unit)
			tr := newTransport(t, WithDialTimeout(wait))
			err := dialErr(t, tr, transport.Target{URL: "ws://" + s.addr + "/flood"})
			n := s.wrote(t)
			t.Logf("server wrote %d bytes before the client hung up", n)
			assert.Less(t, n, int64(floodCap), "the client kept reading")

			require.ErrorIs(t, err, transport.ErrBadHandshake)
			assert.NotErrorIs(t, err, transport.ErrTimeout, "the bound ends the dial, not the timeout")
			assert.NotErrorIs(t, err, context.DeadlineExceeded)
			assert.Contains(t, err.Error(), tc.bound)
			var he *transport.HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.status, he.StatusCode)
		})
	}
}

// TestEndlessProxyAnswerEndsTheDial: a proxy whose answer to CONNECT never
// ends is bounded the same way.
func TestEndlessProxyAnswerEndsTheDial(t *testing.T) {
	s := newFloodServer(t, "HTTP/1.1 200 Connection established\r\nX-Flood: ", "a")
	proxy := func(*http.Request) (*url.URL, error) { return url.Parse("http://" + s.addr) }
	tr := newTransport(t, WithDialTimeout(wait), WithProxy(proxy))
	err := dialErr(t, tr, transport.Target{URL: "ws://feed.example/live"})
	require.ErrorIs(t, err, ErrProxy)
	require.ErrorIs(t, err, transport.ErrBadHandshake)
	assert.Contains(t, err.Error(), fmt.Sprintf("header line longer than %d bytes", MaxHandshakeLine))
	assert.Less(t, s.wrote(t), int64(floodCap))
}

// TestAnswerWithinTheBounds: an answer at every bound, but not past one,
// is accepted, and frames that came with it are read.
func TestAnswerWithinTheBounds(t *testing.T) {
	c := dialRaw(t, func(accept string) []byte {
		var b bytes.Buffer
		b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
		b.WriteString("Sec-WebSocket-Accept: " + accept + "\r\n")
		// A line of MaxHandshakeLine bytes, CR LF included.
		b.WriteString("X-Long: " + strings.Repeat("v", MaxHandshakeLine-len("X-Long: \r\n")) + "\r\n")
		for i := 5; i <= MaxHandshakeHeaders; i++ {
			fmt.Fprintf(&b, "X-Pad-%d: p\r\n", i)
		}
		b.WriteString("\r\n")
		b.Write([]byte{0x81, 0x05, 'e', 'a', 'r', 'l', 'y'}) // a text frame with the answer
		return b.Bytes()
	})
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "early", string(m.Payload))
	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("echo")))
	m, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, "echo", string(m.Payload))
}

// TestAnswerConnBounds checks each bound at its edge, on the reader alone.
func TestAnswerConnBounds(t *testing.T) {
	status := "HTTP/1.1 101 Switching Protocols\r\n"
	headers := func(n int) string { return strings.Repeat("A: b\r\n", n) }
	for _, tc := range []struct {
		name   string
		answer string
		bound  string // "" when the answer is accepted
	}{
		{
			name:   "line at the limit",
			answer: status + "A: " + strings.Repeat("v", MaxHandshakeLine-5) + "\r\n\r\n",
			bound:  "",
		},
		{
			name:   "line one past the limit",
			answer: status + "A: " + strings.Repeat("v", MaxHandshakeLine-4) + "\r\n\r\n",
			bound:  "header line longer than",
		},
		{
			name:   "status line one past the limit, bare LF",
			answer: "HTTP/1.1 101 " + strings.Repeat("S", MaxHandshakeLine-len("HTTP/1.1 101 ")) + "\n\n",
			bound:  "status line longer than",
		},
		{
			name:   "headers at the limit, bare LF",
			answer: "HTTP/1.1 101 OK\n" + strings.Repeat("A: b\n", MaxHandshakeHeaders) + "\n",
			bound:  "",
		},
		{
			name:   "one header too many",
			answer: status + headers(MaxHandshakeHeaders+1) + "\r\n",
			bound:  "more than",
		},
		{
			name:   "total at the limit",
			answer: totalAnswer(MaxHandshakeBytes),
			bound:  "",
		},
		{
			name:   "total one past the limit",
			answer: totalAnswer(MaxHandshakeBytes + 1),
			bound:  "status line and headers longer than",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &answerConn{Conn: &memConn{in: strings.NewReader(tc.answer + "after the headers")}}
			_, err := bufio.NewReaderSize(a, 512).Discard(len(tc.answer))
			if tc.bound == "" {
				require.NoError(t, err)
				assert.Equal(t, len(tc.answer), a.head)
				assert.NoError(t, a.err)
				return
			}
			require.ErrorIs(t, err, transport.ErrBadHandshake)
			assert.Contains(t, err.Error(), tc.bound)
			assert.Equal(t, err, a.err, "the bound is kept")
			assert.LessOrEqual(t, a.total, MaxHandshakeBytes)
		})
	}
}

// totalAnswer returns a 101 answer of exactly n bytes, blank line
// included, in lines within MaxHandshakeLine.
func totalAnswer(n int) string {
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	const line = 8 << 10
	for b.Len()+line+2 <= n {
		b.WriteString("A: " + strings.Repeat("v", line-5) + "\r\n")
	}
	if rest := n - b.Len() - 2; rest > 0 {
		b.WriteString("B: " + strings.Repeat("v", max(rest-5, 0)) + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// TestRefusedBodyReadIsBounded: after the headers of a refusal, the client
// reads its excerpt and at most bodyReadLimit bytes more, whatever the
// body's declared length.
func TestRefusedBodyReadIsBounded(t *testing.T) {
	head := "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 999999999999\r\n\r\n"
	s := newFloodServer(t, head, "b")
	err := dialErr(t, newTransport(t, WithDialTimeout(wait)), transport.Target{URL: "ws://" + s.addr + "/"})
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusTooManyRequests, he.StatusCode)
	assert.Equal(t, strings.Repeat("b", transport.BodyExcerptLimit), he.Body)
	assert.NotErrorIs(t, err, transport.ErrBadHandshake, "a long body is no broken answer")
	assert.Less(t, s.wrote(t), int64(floodCap))
}

// TestAnswerConnBodyLimit: after the blank line, at most bodyReadLimit
// bytes are read, and the end of that is no broken bound.
func TestAnswerConnBodyLimit(t *testing.T) {
	head := "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 99999999\r\n\r\n"
	a := &answerConn{Conn: &memConn{in: io.MultiReader(strings.NewReader(head), &loopReader{data: []byte("b")})}}
	n, err := io.Copy(io.Discard, a)
	require.ErrorIs(t, err, errBodyLimit)
	assert.Equal(t, int64(len(head)+bodyReadLimit), n)
	assert.Equal(t, len(head), a.head)
	assert.NoError(t, a.err)
}

// TestDialTimeoutBoundsTheRefusalBody: a refusal whose body stops short of
// its length ends the dial at the dial timeout, with the status and the
// part of the body that came.
func TestDialTimeoutBoundsTheRefusalBody(t *testing.T) {
	s := newRawServer(t, func(*http.Request, string) []byte {
		return []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1000\r\n\r\nten bytes.")
	})
	err := dialErr(t, newTransport(t, WithDialTimeout(200*time.Millisecond)), transport.Target{URL: s.url})
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusServiceUnavailable, he.StatusCode)
	assert.Equal(t, "ten bytes.", he.Body)
}

// TestDialTimeoutBoundsTLS: a server that never answers the ClientHello
// ends a wss dial at the dial timeout.
func TestDialTimeoutBoundsTLS(t *testing.T) {
	s := newRawServer(t, nil)
	tr := newTransport(t, WithDialTimeout(200*time.Millisecond), WithProxy(nil))
	err := dialErr(t, tr, transport.Target{URL: "wss://" + s.ln.Addr().String() + "/"})
	require.ErrorIs(t, err, transport.ErrTimeout)
	var te *transport.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "handshake", te.Phase)
}

// TestProxyTunnelIsNotBounded: bytes of the tunnel that arrive with the
// proxy's answer are read first, and the tunnel after them is read
// directly, not under the bounds of the proxy's answer: a message far
// larger than bodyReadLimit comes through.
func TestProxyTunnelIsNotBounded(t *testing.T) {
	s := newRawServer(t, func(*http.Request, string) []byte {
		// The start of the target's answer comes with the proxy's.
		return []byte("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n")
	})
	big := bytes.Repeat([]byte("z"), 4*MaxHandshakeBytes)
	served := make(chan struct{})
	go func() {
		defer close(served)
		sc := <-s.conns
		r, err := http.ReadRequest(bufio.NewReader(sc))
		if !assert.NoError(t, err) {
			return
		}
		_, err = sc.Write([]byte("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			acceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"))
		assert.NoError(t, err)
		assert.NoError(t, ws.WriteFrame(sc, ws.NewBinaryFrame(big)))
	}()
	proxy := func(*http.Request) (*url.URL, error) { return url.Parse("http://" + s.ln.Addr().String()) }
	c := dial(t, newTransport(t, WithProxy(proxy)), transport.Target{URL: "ws://feed.example/live"})
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, len(big), len(m.Payload))
	<-served
	_ = c.Close(transport.StatusAbnormalClosure, "") // abort: the server answers no close
}
