package tether_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
)

// lateMessages is how many data messages the server of these tests sends
// after it has received the client's close frame, before it answers it.
const lateMessages = 500

// latePayload is late message i: its number, then filler up to a size that
// cycles through small, medium and large frames (the 16-bit and 64-bit
// length encodings both occur), so that frames straddle the read buffer.
func latePayload(i int) string {
	size := []int{8, 200, 1500, 9000, 40}[i%5]
	if i%100 == 99 {
		size = 70000
	}
	s := fmt.Sprintf("m-%d|", i)
	return s + strings.Repeat("x", max(size-len(s), 0))
}

// lateIndex returns the number of a late message, or -1.
func lateIndex(s string) int {
	var i int
	if _, err := fmt.Sscanf(s, "m-%d|", &i); err != nil || s != latePayload(i) {
		return -1
	}
	return i
}

// newLateServer starts a raw WebSocket server that, once it has read the
// client's close frame, sends lateMessages data frames (some fragmented)
// and only then answers the close, as RFC 6455 lets a peer do. Every
// connection gets the same script; the server ends with the test.
func newLateServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { serveLate(c) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/feed"
}

func serveLate(c net.Conn) {
	defer c.Close()
	if _, err := ws.Upgrade(c); err != nil {
		return
	}
	br := bufio.NewReader(c)
	payload, ok := awaitCloseFrame(br)
	if !ok {
		return
	}
	bw := bufio.NewWriter(c)
	for i := range lateMessages {
		p := []byte(latePayload(i))
		if i%7 == 3 && len(p) > 3 {
			// Three fragments.
			third := len(p) / 3
			_ = ws.WriteFrame(bw, ws.NewFrame(ws.OpText, false, p[:third]))
			_ = ws.WriteFrame(bw, ws.NewFrame(ws.OpContinuation, false, p[third:2*third]))
			_ = ws.WriteFrame(bw, ws.NewFrame(ws.OpContinuation, true, p[2*third:]))
			continue
		}
		_ = ws.WriteFrame(bw, ws.NewTextFrame(p))
	}
	code := payload[:min(len(payload), 2)]
	_ = ws.WriteFrame(bw, ws.NewCloseFrame(code))
	if bw.Flush() != nil {
		return
	}
	_, _ = io.Copy(io.Discard, br) // until the client hangs up
}

// awaitCloseFrame reads the client's frames until its close frame and
// returns that frame's payload, unmasked; ok is false when the connection
// ends first. Other frames are skipped: pings go unanswered, the tests run
// without a heartbeat.
func awaitCloseFrame(br *bufio.Reader) (payload []byte, ok bool) {
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return nil, false
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(br, payload); err != nil {
			return nil, false
		}
		if h.OpCode == ws.OpClose {
			ws.Cipher(payload, h.Mask, 0)
			return payload, true
		}
	}
}

// TestDisconnectDeliversWhatTheServerSendsBeforeItsAnswer: after the client's
// close frame went out, the WebSocket transport used to read and throw
// away the data frames the server still sent before answering it: a
// Disconnect lost them, and nothing said so. Now the reader keeps
// reading through the handshake: every one of them reaches OnMessage and
// the subscriber, in order, and nothing is reported lost.
func TestDisconnectDeliversWhatTheServerSendsBeforeItsAnswer(t *testing.T) {
	url := newLateServer(t)
	var mu sync.Mutex
	var reported []error
	var handled []int
	onMessage := newCounter()
	c := newClient[string](t, url, tether.WithoutHeartbeat(), tether.WithAutoConnect(false),
		tether.OnError(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }),
		tether.OnMessage(func(s string) {
			mu.Lock()
			handled = append(handled, lateIndex(s))
			mu.Unlock()
			onMessage.add(1)
		}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	msgs := c.Messages(ctx)
	defer msgs.Close()
	require.NoError(t, c.Connect(ctx))

	require.NoError(t, c.Disconnect(ctx))

	got := make([]int, 0, lateMessages)
	for len(got) < lateMessages {
		select {
		case s, ok := <-msgs.C():
			require.True(t, ok, "the subscription ended after %d messages", len(got))
			got = append(got, lateIndex(s))
		case <-ctx.Done():
			require.FailNow(t, "the late messages did not all arrive",
				"%d of %d arrived after Disconnect", len(got), lateMessages)
		}
	}
	assertSequence(t, got, lateMessages, "the messages sent before the close answer")
	require.NoError(t, onMessage.waitAtLeast(ctx, lateMessages))
	mu.Lock()
	defer mu.Unlock()
	assertSequence(t, handled, lateMessages, "OnMessage")
	for _, err := range reported {
		assert.False(t, errors.Is(err, tether.ErrDelivery), "reported as not delivered: %v", err)
	}
	assert.Zero(t, c.Stats().Drops())
}

// TestCloseReportsWhatTheServerSendsBeforeItsAnswer: after Close, no
// message reaches user code, by the documented rule; the messages the
// server still sends before answering the close frame used to vanish
// without a report. Each is now reported dropped (*InboundDropError,
// ErrClosed when the reader read it, ErrDiscarded when the transport threw
// it away), the counts add up to exactly what the server sent, and none
// reaches the subscriber.
func TestCloseReportsWhatTheServerSendsBeforeItsAnswer(t *testing.T) {
	url := newLateServer(t)
	var mu sync.Mutex
	var dropped uint64
	var others []error
	c, err := tether.New[string](url, tether.WithoutHeartbeat(), tether.WithAutoConnect(false),
		tether.OnError(func(err error) {
			mu.Lock()
			defer mu.Unlock()
			if e, ok := errors.AsType[*tether.InboundDropError](err); ok {
				// Read after Close (ErrClosed), or thrown away by the
				// transport, which Close told nothing is wanted (ErrDiscarded).
				assert.True(t, errors.Is(err, tether.ErrClosed) || errors.Is(err, tether.ErrDiscarded), "reason: %v", err)
				assert.ErrorIs(t, err, tether.ErrDelivery)
				dropped += e.Count
				return
			}
			others = append(others, err)
		}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	msgs := c.Messages(ctx)
	defer msgs.Close()
	require.NoError(t, c.Connect(ctx))

	require.NoError(t, c.Close(ctx))
	waitDone(t, c) // every callback has run
	for s := range msgs.C() {
		assert.Failf(t, "a message reached the subscriber after Close", "%.20q", s)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, uint64(lateMessages), dropped, "reported dropped")
	assert.Empty(t, others)
	assert.Equal(t, uint64(lateMessages), c.Stats().InboundDrops)
}
