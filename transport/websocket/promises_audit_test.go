package websocket

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// Tests of documented promises that no other test held: each fails if the
// promise it names breaks.

// TestCloseCountsFragmentedMessagesItThrowsAway holds docs/transports.md
// (Conn.Close): a transport that throws away what the peer sends between
// our close frame and its answer "counts each message it threw away" and
// says so through transport.DiscardCounter. A message the peer sends in
// fragments (a first frame, continuations, a ping between them) is one
// message thrown away, counted like a whole one, on both paths that throw
// away: after ReleaseReader, and past closeHoldLimit when Read was never
// called.
func TestCloseCountsFragmentedMessagesItThrowsAway(t *testing.T) {
	t.Run("after ReleaseReader", func(t *testing.T) {
		// sendLate sends messages 3, 10, 17 and 24 in three fragments,
		// with a ping between the first two, the others whole.
		const n = 30
		c, p, _ := connectPair(t)
		transport.ReleaserOf(c).ReleaseReader()
		go answerAfter(p, sendLate(n))
		require.NoError(t, c.Close(transport.StatusNormalClosure, ""), "the handshake completes")

		d := transport.DiscardsOf(c)
		require.NotNil(t, d)
		assert.Equal(t, uint64(n), d.Discarded(), "every message thrown away is counted, fragmented ones included")
		_, err := c.Read()
		ce := closeErr(t, err)
		assert.Equal(t, transport.StatusNormalClosure, ce.Code)
		assert.NoError(t, ce.Err)
	})

	t.Run("nobody reads, past the hold limit", func(t *testing.T) {
		// 40 messages of 64 KiB (2.5 MiB, past closeHoldLimit), each
		// in two fragments with a ping between them.
		const n = 40
		big := func(i int) []byte {
			m := bytes.Repeat([]byte{'y'}, 64<<10)
			copy(m, fmt.Sprintf("late-%d|", i))
			return m
		}
		c, p, _ := connectPair(t)
		go answerAfter(p, func(p *peer) error {
			for i := range n {
				m := big(i)
				for _, f := range []ws.Frame{
					ws.NewFrame(ws.OpBinary, false, m[:len(m)/2]),
					ws.NewPingFrame([]byte("between")),
					ws.NewFrame(ws.OpContinuation, true, m[len(m)/2:]),
				} {
					if err := ws.WriteFrame(p.conn, f); err != nil {
						return err
					}
				}
			}
			return nil
		})
		require.NoError(t, c.Close(transport.StatusNormalClosure, ""), "the handshake completes")

		kept := readKept(t, c, big)
		d := transport.DiscardsOf(c)
		require.NotNil(t, d)
		assert.Positive(t, d.Discarded(), "Close threw some away")
		assert.Equal(t, uint64(n), uint64(kept)+d.Discarded(), "every fragmented message kept or counted")
	})
}

// askConn is a net.Conn that records what its Reads ask for: the largest
// "bytes read before + len(p)" of a Read that started before the first
// headEnd bytes were read (the head), and of one that started after. With
// headEnd > 0, a Read never returns bytes past the head together with the
// head's last bytes (a short read, as a socket may return), so that the
// test knows where the headers end.
type askConn struct {
	net.Conn
	headEnd int

	mu        sync.Mutex
	total     int // bytes read
	reachHead int // furthest any Read asked to reach while in the head
	reachBody int // furthest any Read asked to reach after the head
}

func (c *askConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	total := c.total
	reach := total + len(p)
	if c.headEnd == 0 || total < c.headEnd {
		c.reachHead = max(c.reachHead, reach)
	} else {
		c.reachBody = max(c.reachBody, reach)
	}
	c.mu.Unlock()
	if c.headEnd > 0 && total < c.headEnd && reach > c.headEnd {
		p = p[:c.headEnd-total]
	}
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.total += n
	c.mu.Unlock()
	return n, err
}

// stats returns the bytes read and the furthest reaches asked for.
func (c *askConn) stats() (total, reachHead, reachBody int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, c.reachHead, c.reachBody
}

// askDial returns a WithNetDial function that dials TCP through an askConn
// with headEnd, and the channel that receives the askConn.
func askDial(headEnd int) (func(ctx context.Context, network, addr string) (net.Conn, error), <-chan *askConn) {
	conns := make(chan *askConn, 1)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		ac := &askConn{Conn: nc, headEnd: headEnd}
		select {
		case conns <- ac:
		default:
		}
		return ac, nil
	}, conns
}

// TestHandshakeNeverAsksPastTheBounds holds docs/transports.md (The
// WebSocket handshake: bounds and typed failures): "The connection is
// never asked for more than 64 KiB before the headers end", whatever the
// server sends; and a refusal's body is read "at most 8 KiB". The dial's
// own connection (WithNetDial) records how far each Read asked to reach;
// a large read buffer (WithReadBufferSize) asks for far more per Read than
// the bounds, so only the bounds keep the asks within them.
func TestHandshakeNeverAsksPastTheBounds(t *testing.T) {
	line := strings.Repeat("v", 8000)
	for _, bufSize := range []int{0, 1 << 20} { // 0: the default
		buf := "default read buffer"
		if bufSize > 0 {
			buf = fmt.Sprintf("read buffer %d", bufSize)
		}
		for _, tc := range []struct {
			name string
			head string
			unit string
		}{
			{"header line on 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-Flood: ", "a"},
			{"long headers on 503", "HTTP/1.1 503 Service Unavailable\r\n", "X-Long: " + line + "\r\n"},
			{"small headers on 429", "HTTP/1.1 429 Too Many Requests\r\n", "X-A: b\r\n"},
		} {
			t.Run(tc.name+", "+buf, func(t *testing.T) {
				s := newFloodServer(t, tc.head, tc.unit)
				netDial, conns := askDial(0)
				opts := []Option{WithDialTimeout(wait), WithProxy(nil), WithNetDial(netDial)}
				if bufSize > 0 {
					opts = append(opts, WithReadBufferSize(bufSize))
				}
				err := dialErr(t, newTransport(t, opts...), transport.Target{URL: "ws://" + s.addr + "/flood"})
				require.ErrorIs(t, err, transport.ErrBadHandshake)
				assert.NotErrorIs(t, err, transport.ErrTimeout, "a bound ends the dial, not the timeout")
				var he *transport.HandshakeError
				require.ErrorAs(t, err, &he)

				ac := await(t, conns, "the dial's connection")
				total, reach, _ := ac.stats()
				t.Logf("read %d bytes, furthest ask %d", total, reach)
				assert.LessOrEqual(t, reach, MaxHandshakeBytes, "a Read asked past 64 KiB before the headers ended")
				assert.LessOrEqual(t, total, MaxHandshakeBytes)
			})
		}

		t.Run("refusal body, "+buf, func(t *testing.T) {
			head := "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 999999999999\r\n\r\n"
			s := newFloodServer(t, head, "b")
			netDial, conns := askDial(len(head))
			opts := []Option{WithDialTimeout(wait), WithProxy(nil), WithNetDial(netDial)}
			if bufSize > 0 {
				opts = append(opts, WithReadBufferSize(bufSize))
			}
			err := dialErr(t, newTransport(t, opts...), transport.Target{URL: "ws://" + s.addr + "/"})
			var he *transport.HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, http.StatusTooManyRequests, he.StatusCode)
			assert.Equal(t, strings.Repeat("b", transport.BodyExcerptLimit), he.Body)
			assert.NotErrorIs(t, err, transport.ErrBadHandshake, "a long body is no broken answer")

			ac := await(t, conns, "the dial's connection")
			total, reachHead, reachBody := ac.stats()
			t.Logf("read %d bytes (head %d), furthest ask %d in the head, %d in the body", total, len(head), reachHead, reachBody)
			assert.LessOrEqual(t, reachHead, MaxHandshakeBytes, "a Read asked past 64 KiB before the headers ended")
			assert.LessOrEqual(t, reachBody, len(head)+bodyReadLimit, "a Read asked for more than 8 KiB of the body")
			assert.LessOrEqual(t, total, len(head)+bodyReadLimit, "more than 8 KiB of the body read")
		})
	}
}

// TestCloseTimeoutDefaultIsFiveSeconds holds README.md: "a server that
// never answers the close frame holds [Close] for the close timeout, 5 s
// by default, at most". The default is 5 s, a Transport built without
// options and every connection it dials use it, and Close against a
// silent peer returns a timeout no later than its close timeout (a short
// one here, so that the test is fast; with slack for a loaded machine).
func TestCloseTimeoutDefaultIsFiveSeconds(t *testing.T) {
	assert.Equal(t, 5*time.Second, time.Duration(DefaultCloseTimeout))
	tr := newTransport(t)
	assert.Equal(t, 5*time.Second, tr.opts.closeTimeout)

	s := newServer(t)
	c := dial(t, tr, transport.Target{URL: s.url})
	p := s.next()
	cc, ok := c.(*conn)
	require.True(t, ok)
	assert.Equal(t, 5*time.Second, cc.opts.closeTimeout, "a dialled connection uses the default")
	require.NoError(t, c.Close(transport.StatusAbnormalClosure, "")) // abort: no close handshake
	_ = p.conn.Close()

	const timeout = 300 * time.Millisecond
	c, p, _ = connectPair(t, WithCloseTimeout(timeout))
	go func() {
		_, _, _ = p.readClose()
		// and never answer; the read below ends when the client drops.
		_, _ = io.Copy(io.Discard, p.br)
	}()
	start := time.Now()
	err := c.Close(transport.StatusNormalClosure, "")
	elapsed := time.Since(start)
	require.ErrorIs(t, err, transport.ErrTimeout)
	var te *transport.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "close", te.Phase)
	assert.Equal(t, timeout, te.After, "the timeout given, not the default")
	// Below the 5 s default: a Close that ignored the option fails (an
	// audit: the slack allowed it); generous for a loaded machine.
	assert.Less(t, elapsed, timeout+3*time.Second, "Close held past its close timeout")
	waitDone(t, c)
}
