package transporttest

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// samples are the messages RoundTrip sends each way: both types, every
// byte value, multi-byte UTF-8, and a message of 100 KiB.
func samples() []transport.Message {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	large := make([]byte, 100<<10)
	for i := range large {
		large[i] = byte(i * 7)
	}
	return []transport.Message{
		{Type: transport.Text, Payload: []byte("hello")},
		{Type: transport.Binary, Payload: every},
		{Type: transport.Text, Payload: []byte("ünïcødé ✓ 😀")},
		{Type: transport.Binary, Payload: large},
		{Type: transport.Text, Payload: bytes.Repeat([]byte("text "), 2000)},
		{Type: transport.Binary, Payload: []byte{0}},
	}
}

// checkRoundTrip: messages go both ways in order and keep their type; Write
// keeps no reference to the caller's payload.
func checkRoundTrip(s *suite) {
	c, p := s.open()
	in := s.reader(c)
	ctx := s.ctx()
	want := samples()
	for i, m := range want {
		buf := bytes.Clone(m.Payload)
		require.NoError(s.t, s.write(ctx, c, m.Type, buf, "of a sample"), "Write of message %d", i)
		for j := range buf {
			buf[j] ^= 0xFF // the Conn must not have kept it
		}
	}
	for i, m := range want {
		s.requireMessage(m, s.recvData(p, "a message from the client"), fmt.Sprintf("message %d from the client", i))
	}
	for i, m := range want {
		require.NoError(s.t, p.Send(ctx, m.Type, m.Payload), "Peer.Send of message %d", i)
	}
	for i, m := range want {
		s.requireMessage(m, s.readData(in, "a message from the peer"), fmt.Sprintf("message %d from the peer", i))
	}
	require.NoError(s.t, c.Err(), "Err of a Conn that is up")
	require.False(s.t, isClosed(c.Done()), "Done of a Conn that is up")
}

// checkWriteBadType: Write of a type other than Text or Binary fails with
// ErrUnsupported and leaves the Conn up.
func checkWriteBadType(s *suite) {
	c, p := s.open()
	ctx := s.ctx()
	for _, typ := range []transport.MessageType{transport.Ping, transport.Pong, 0, 0x8, 0xFF} {
		require.ErrorIs(s.t, s.write(ctx, c, typ, []byte("bad type"), "of a control type"), transport.ErrUnsupported, "Write of type %v", typ)
	}
	require.NoError(s.t, c.Err(), "Err after the refused Writes")
	require.NoError(s.t, s.write(ctx, c, transport.Text, []byte("still up"), "after a refused type"))
	s.requireMessage(transport.Message{Type: transport.Text, Payload: []byte("still up")},
		s.recvData(p, "the message after the refused Writes"), "the message after the refused Writes")
}

// checkWriteEndedContext: a Write whose ctx has ended returns ctx's error,
// sends nothing, and leaves the Conn up for the next Write.
func checkWriteEndedContext(s *suite) {
	c, p := s.open()
	ended, cancel := context.WithCancel(s.t.Context())
	cancel()
	require.ErrorIs(s.t, s.write(ended, c, transport.Text, []byte("never sent"), "with an ended ctx"), context.Canceled, "Write with an ended ctx")
	require.NoError(s.t, c.Err(), "a ctx that ended failed the Conn")
	require.NoError(s.t, s.write(s.ctx(), c, transport.Text, []byte("sent"), "after one with an ended ctx"))
	s.requireMessage(transport.Message{Type: transport.Text, Payload: []byte("sent")},
		s.recvData(p, "the message after the cancelled Write"), "the peer's first message (the cancelled one must not arrive)")
}

// checkConcurrentWrites: Write and Ping from many goroutines at once, with
// Err, Done and Subprotocol beside them. Every message arrives, each
// writer's in its order; the race detector watches the rest.
func checkConcurrentWrites(s *suite) {
	const writers, perWriter, pingers, perPinger = 8, 25, 4, 10
	c, p := s.open()
	in := s.reader(c)
	ctx := s.ctx()
	ping := []byte("concurrent ping")
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				assert.NoError(s.t, c.Write(ctx, typeFor(i), fmt.Appendf(nil, "%d/%d", w, i)), "Write %d/%d", w, i)
			}
		})
	}
	for range pingers {
		wg.Go(func() {
			for range perPinger {
				err := c.Ping(ctx, ping)
				if s.h.Caps.Ping {
					assert.NoError(s.t, err, "Ping")
				} else {
					assert.ErrorIs(s.t, err, transport.ErrUnsupported, "Ping without Caps.Ping")
				}
				assert.NoError(s.t, c.Err())
				assert.False(s.t, isClosed(c.Done()))
				_ = c.Subprotocol()
			}
		})
	}
	next := make([]int, writers)
	for range writers * perWriter {
		m := s.recvData(p, "the concurrent writes")
		var w, i int
		_, err := fmt.Sscanf(string(m.Payload), "%d/%d", &w, &i)
		require.NoError(s.t, err, "the peer received %q, which no writer sent", excerpt(m.Payload))
		require.True(s.t, w >= 0 && w < writers, "the peer received %q, which no writer sent", m.Payload)
		require.Equal(s.t, next[w], i, "writer %d's messages arrived out of order", w)
		require.Equal(s.t, typeFor(i), m.Type, "type of message %d/%d", w, i)
		next[w]++
	}
	wg.Wait()
	if s.h.Caps.Ping {
		s.readPong(in, ping)
	}
	require.NoError(s.t, c.Err(), "Err after the concurrent writes")
}

// typeFor alternates Text and Binary.
func typeFor(i int) transport.MessageType {
	if i%2 == 1 {
		return transport.Binary
	}
	return transport.Text
}
