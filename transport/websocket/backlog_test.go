package websocket

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tether-go/tether/transport"
)

// rawHeader builds a frame header by hand: first byte b0, then the length
// in the encoding asked for (7, 16 or 64 bits), then a mask when masked.
func rawHeader(b0 byte, masked bool, bits int, length uint64) []byte {
	var m byte
	if masked {
		m = 0x80
	}
	var h []byte
	switch bits {
	case 7:
		h = []byte{b0, m | byte(length)}
	case 16:
		h = binary.BigEndian.AppendUint16([]byte{b0, m | 126}, uint16(length))
	default:
		h = binary.BigEndian.AppendUint64([]byte{b0, m | 127}, length)
	}
	if masked {
		h = append(h, 0, 0, 0, 0) // a zero mask leaves the payload as it is
	}
	return h
}

// readNext reads one message and requires it to be what was sent.
func readNext(t *testing.T, c *conn, typ transport.MessageType, payload []byte) {
	t.Helper()
	m, err := c.Read()
	require.NoError(t, err)
	require.Equal(t, typ, m.Type)
	require.Equal(t, payload, m.Payload)
}

// TestBufferedNextFrame: after a message, Buffered looks at what follows it
// in the read buffer. When it says true, the next Read returns without
// reading the network.
func TestBufferedNextFrame(t *testing.T) {
	lead := []byte("lead")
	small := bytes.Repeat([]byte{'s'}, 200)
	for _, tc := range []struct {
		name string
		next []byte
		tune func(*options)
		want bool
	}{
		{name: "nothing", next: nil, want: false},
		{name: "binary", next: encode(ws.OpBinary, true, []byte("b")), want: true},
		{name: "empty binary", next: encode(ws.OpBinary, true, nil), want: true},
		{name: "text", next: encode(ws.OpText, true, []byte("héllo")), want: true},
		{name: "text with invalid UTF-8", next: encode(ws.OpText, true, []byte{'a', 0xff}), want: false},
		{name: "16-bit length", next: encode(ws.OpBinary, true, small), want: true},
		{name: "64-bit length", next: cat(rawHeader(0x82, false, 64, 3), []byte("abc")), want: true},
		{name: "64-bit length with the top bit", next: cat(rawHeader(0x82, false, 64, 1<<63|3), []byte("abc")), want: false},
		{name: "ping", next: encode(ws.OpPing, true, []byte("p")), want: true},
		{name: "pong", next: encode(ws.OpPong, true, nil), want: true},
		{name: "close", next: encode(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, "")), want: false},
		{name: "first fragment", next: encode(ws.OpText, false, []byte("fr")), want: false},
		{name: "continuation outside a message", next: encode(ws.OpContinuation, true, []byte("c")), want: false},
		{name: "masked", next: cat(rawHeader(0x82, true, 7, 1), []byte("m")), want: false},
		{name: "reserved bits", next: cat(rawHeader(0xc2, false, 7, 1), []byte("r")), want: false},
		{name: "reserved opcode", next: cat(rawHeader(0x83, false, 7, 1), []byte("o")), want: false},
		{name: "control payload over 125", next: cat(rawHeader(0x89, false, 16, 126), make([]byte, 126)), want: false},
		{name: "over the frame limit", next: encode(ws.OpBinary, true, small),
			tune: func(o *options) { o.maxFrameSize = 100 }, want: false},
		{name: "over the message limit", next: encode(ws.OpBinary, true, small),
			tune: func(o *options) { o.maxMessageSize = 100 }, want: false},
		{name: "header cut short", next: encode(ws.OpBinary, true, small)[:3], want: false},
		{name: "payload cut short", next: encode(ws.OpBinary, true, small)[:203], want: false},
		{name: "masked header cut in the mask", next: rawHeader(0x82, true, 7, 1)[:4], want: false},
	} {
		// The first call looks by itself; once Buffered has been called,
		// Read looks ahead as it returns.
		for _, lookAhead := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/lookahead=%t", tc.name, lookAhead), func(t *testing.T) {
				c, nc := newChunkClient(t, tc.tune, nil)
				nc.feed(cat(encode(ws.OpBinary, true, lead), tc.next))
				if lookAhead {
					require.False(t, c.Buffered(), "nothing is read before the first Read")
				}
				readNext(t, c, transport.Binary, lead)

				require.Equal(t, tc.want, c.Buffered())
				require.Equal(t, tc.want, c.Buffered(), "asking again changes nothing")
				if !tc.want {
					return
				}
				before, _ := c.ReadProgress()
				_, err := c.Read()
				require.NoError(t, err)
				after, _ := c.ReadProgress()
				require.Equal(t, before, after, "the Read after true read nothing from the network")
			})
		}
	}
}

// TestBufferedSeveralFrames: frames that arrived together are buffered
// until the last one has been read.
func TestBufferedSeveralFrames(t *testing.T) {
	c, nc := newChunkClient(t, nil, nil)
	msgs := [][]byte{[]byte("one"), []byte("two"), []byte("three")}
	nc.feed(cat(encode(ws.OpText, true, msgs[0]), encode(ws.OpText, true, msgs[1]), encode(ws.OpText, true, msgs[2])))

	require.False(t, c.Buffered(), "nothing is read before the first Read")
	for i, m := range msgs {
		readNext(t, c, transport.Text, m)
		require.Equal(t, i < len(msgs)-1, c.Buffered(), "after message %d", i)
	}
}

// TestBufferedSplitFrame: a frame cut anywhere (in its header, extended
// length or payload) is not buffered until Read has taken the rest.
func TestBufferedSplitFrame(t *testing.T) {
	first := encode(ws.OpBinary, true, []byte("first"))
	split := encode(ws.OpBinary, true, bytes.Repeat([]byte{'x'}, 130)) // 16-bit length
	last := encode(ws.OpBinary, true, []byte("last"))
	for cut := 1; cut < len(split); cut++ {
		c, nc := newChunkClient(t, nil, nil)
		nc.feed(cat(first, split[:cut]))
		readNext(t, c, transport.Binary, []byte("first"))
		require.False(t, c.Buffered(), "cut after %d bytes", cut)

		nc.feed(cat(split[cut:], last))
		require.False(t, c.Buffered(), "Buffered reads nothing: the rest is not taken yet (cut %d)", cut)
		readNext(t, c, transport.Binary, bytes.Repeat([]byte{'x'}, 130))
		require.True(t, c.Buffered(), "the next frame came with the rest (cut %d)", cut)
		readNext(t, c, transport.Binary, []byte("last"))
		require.False(t, c.Buffered())
	}
}

// TestBufferedFragmentedMessage: a fragment is not a message, and once a
// ping has been read in the middle of a fragmented message only a control
// frame counts.
func TestBufferedFragmentedMessage(t *testing.T) {
	c, nc := newChunkClient(t, nil, nil)
	nc.feed(cat(
		encode(ws.OpBinary, true, []byte("m0")),
		encode(ws.OpText, false, []byte("ab")),
		encode(ws.OpPing, true, []byte("p1")),
		encode(ws.OpPing, true, []byte("p2")),
		encode(ws.OpContinuation, false, []byte("cd")),
		encode(ws.OpContinuation, true, []byte("ef")),
		encode(ws.OpPong, true, nil),
		encode(ws.OpBinary, true, []byte("m1")),
	))
	readNext(t, c, transport.Binary, []byte("m0"))
	require.False(t, c.Buffered(), "a first fragment")
	readNext(t, c, transport.Ping, []byte("p1"))
	require.True(t, c.Buffered(), "a ping in the middle of the message")
	readNext(t, c, transport.Ping, []byte("p2"))
	require.False(t, c.Buffered(), "the message goes on")
	readNext(t, c, transport.Text, []byte("abcdef"))
	require.True(t, c.Buffered(), "a pong")
	readNext(t, c, transport.Pong, []byte{})
	require.True(t, c.Buffered(), "a whole message")
	readNext(t, c, transport.Binary, []byte("m1"))
	require.False(t, c.Buffered())
}

// TestBufferedAfterTheEnd: once the connection has ended, Read returns at
// once, so Buffered says true.
func TestBufferedAfterTheEnd(t *testing.T) {
	t.Run("peer close", func(t *testing.T) {
		c, nc := newChunkClient(t, nil, nil)
		nc.feed(cat(encode(ws.OpText, true, []byte("bye")),
			encode(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusGoingAway, "")),
			encode(ws.OpText, true, []byte("after the close"))))
		readNext(t, c, transport.Text, []byte("bye"))
		require.False(t, c.Buffered(), "a close frame")
		_, err := c.Read()
		require.Equal(t, transport.StatusGoingAway, closeErr(t, err).Code)
		require.True(t, c.Buffered())
		_, again := c.Read()
		require.ErrorIs(t, again, err)
	})
	t.Run("abort", func(t *testing.T) {
		c, _ := newChunkClient(t, nil, nil)
		require.False(t, c.Buffered())
		require.NoError(t, c.Close(transport.StatusAbnormalClosure, ""))
		require.True(t, c.Buffered())
		_, err := c.Read()
		require.Equal(t, transport.StatusAbnormalClosure, closeErr(t, err).Code)
	})
}

// TestBufferedHandshakeBytes: frames that came with the handshake answer
// count, also when a header is split between the read buffer and them.
func TestBufferedHandshakeBytes(t *testing.T) {
	f1 := encode(ws.OpBinary, true, bytes.Repeat([]byte{'1'}, MinBufferSize-5)) // header 4: fills the buffer but one byte
	f2 := encode(ws.OpBinary, true, bytes.Repeat([]byte{'2'}, 200))             // its header starts in the buffer
	f3 := encode(ws.OpBinary, true, []byte("3"))
	require.Len(t, f1, MinBufferSize-1)
	extra := cat(f1, f2, f3)
	c, nc := newChunkClient(t, func(o *options) { o.readBufSize = MinBufferSize }, extra)

	require.True(t, c.Buffered(), "a whole frame came with the handshake")
	readNext(t, c, transport.Binary, f1[4:])
	require.True(t, c.Buffered(), "header split between the buffer and the handshake's")
	readNext(t, c, transport.Binary, f2[4:])
	require.True(t, c.Buffered())
	readNext(t, c, transport.Binary, []byte("3"))
	require.False(t, c.Buffered())
	received, waiting := c.ReadProgress()
	assert.Equal(t, uint64(len(extra)), received, "handshake bytes count once taken")
	assert.False(t, waiting)

	nc.feed(encode(ws.OpBinary, true, []byte("4")))
	readNext(t, c, transport.Binary, []byte("4"))
}

// TestBufferedDoesNotAllocate: Buffered runs after every message.
func TestBufferedDoesNotAllocate(t *testing.T) {
	f1 := encode(ws.OpBinary, true, bytes.Repeat([]byte{'1'}, MinBufferSize-5)) // fills the buffer but one byte
	f2 := encode(ws.OpBinary, true, []byte("2"))
	for _, tc := range []struct {
		name        string
		fed, extra  []byte
		firstLength int
	}{
		{name: "in the buffer", fed: cat(f2, f2), firstLength: 1},
		{name: "header split with the handshake's bytes", extra: cat(f1, f2), firstLength: MinBufferSize - 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, nc := newChunkClient(t, func(o *options) { o.readBufSize = MinBufferSize }, tc.extra)
			if tc.fed != nil {
				nc.feed(tc.fed)
			}
			m, err := c.Read()
			require.NoError(t, err)
			require.Len(t, m.Payload, tc.firstLength)
			require.True(t, c.Buffered())
			assert.Zero(t, testing.AllocsPerRun(100, func() { c.Buffered() }))
			assert.Zero(t, testing.AllocsPerRun(100, func() {
				c.readMu.Lock()
				c.buffered() // the look each Read takes for Buffered
				c.readMu.Unlock()
			}))
		})
	}
}

// TestPeekFrameMatchesGobwas: peekFrame accepts the headers of frames Read
// returns as they are, finds in them what gobwas finds, wherever the input
// is split, and accepts nothing else.
func TestPeekFrameMatchesGobwas(t *testing.T) {
	for _, tc := range []struct {
		name   string
		b      []byte
		accept bool
	}{
		{"text", encode(ws.OpText, true, []byte("hi")), true},
		{"binary, 16-bit length", encode(ws.OpBinary, true, make([]byte, 300)), true},
		{"binary, 64-bit length", rawHeader(0x82, false, 64, 1<<40), true},
		{"binary, 64-bit length of a small frame", rawHeader(0x82, false, 64, 5), true},
		{"ping", encode(ws.OpPing, true, []byte("p")), true},
		{"pong of 125 bytes", encode(ws.OpPong, true, make([]byte, 125)), true},
		{"pong, 16-bit length", rawHeader(0x8a, false, 16, 5), false},
		{"ping over 125", rawHeader(0x89, false, 16, 126), false},
		{"first fragment", encode(ws.OpBinary, false, make([]byte, 300)), false},
		{"continuation", encode(ws.OpContinuation, true, nil), false},
		{"close", encode(ws.OpClose, true, nil), false},
		{"reserved opcode", rawHeader(0x83, false, 7, 1), false},
		{"reserved bits", rawHeader(0xf1, false, 16, 7), false},
		{"masked", cat(rawHeader(0x82, true, 7, 1), []byte{1, 2, 3, 4}), false},
		{"masked ping", rawHeader(0x89, true, 7, 1), false},
		{"64-bit length with the top bit", rawHeader(0x82, false, 64, 1<<63), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bytes.NewReader(tc.b)
			h, err := ws.ReadHeader(r)
			size := len(tc.b) - r.Len()
			if tc.accept {
				require.NoError(t, err)
				require.NoError(t, ws.CheckHeader(h, ws.StateClientSide), "Read takes it")
			}
			for cut := 0; cut <= len(tc.b); cut++ {
				op, gotSize, length, ok := peekFrame(tc.b[:cut], tc.b[cut:])
				require.Equal(t, tc.accept, ok, "cut at %d", cut)
				if ok {
					assert.Equal(t, h.OpCode, op, "cut at %d", cut)
					assert.Equal(t, size, gotSize, "cut at %d", cut)
					assert.Equal(t, h.Length, length, "cut at %d", cut)
				}
			}
			if tc.accept {
				for n := range size {
					_, _, _, ok := peekFrame(tc.b[:n], nil)
					assert.False(t, ok, "%d bytes are not a header", n)
				}
			}
		})
	}
}

// stepReader serves data at most step bytes per Read and counts the Reads.
type stepReader struct {
	data  []byte
	step  int
	reads int
}

func (r *stepReader) Read(p []byte) (int, error) {
	r.reads++
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.step)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// FuzzBuffered: whatever the server sends, however it arrives, when
// Buffered says true the next Read reads nothing from the network (it
// neither waits for more nor drains the input after failing the
// connection), and a text message it let through unchecked is valid.
func FuzzBuffered(f *testing.F) {
	close1000 := encode(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	for _, seed := range [][]byte{
		cat(encode(ws.OpBinary, true, []byte("a")), encode(ws.OpText, true, []byte("b")), encode(ws.OpPing, true, nil)),
		cat(encode(ws.OpText, false, []byte("a")), encode(ws.OpPing, true, nil), encode(ws.OpContinuation, true, []byte{0xff})),
		cat(encode(ws.OpText, true, []byte("ok")), encode(ws.OpText, true, []byte{'a', 0xc3})),
		cat(encode(ws.OpText, true, []byte("ok")), close1000, encode(ws.OpText, true, []byte("late"))),
		cat(encode(ws.OpText, true, []byte("ok")), rawHeader(0x82, true, 7, 1), []byte("m")),
		cat(encode(ws.OpText, true, []byte("ok")), encode(ws.OpBinary, true, make([]byte, 5000))),
		cat(encode(ws.OpText, true, []byte("ok")), rawHeader(0x82, false, 64, 1<<63|1), []byte("x")),
		cat(encode(ws.OpPong, true, nil), encode(ws.OpClose, true, []byte{0x03})),
	} {
		for _, step := range []uint8{0, 6, 255} {
			f.Add(seed, step)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		o := defaultOptions()
		o.maxMessageSize = 1 << 12
		o.readBufSize = MinBufferSize
		if err := o.resolve(); err != nil {
			t.Fatal(err)
		}
		src := &stepReader{data: data, step: 1 + int(step)}
		c := newConn(&memConn{in: src}, nil, &o, "")
		defer c.Close(transport.StatusNormalClosure, "") // waits for a pong's flusher

		// Every Read consumes at least two bytes or ends the connection.
		for i := 0; i <= len(data)/2+1; i++ {
			ready := c.Buffered()
			reads := src.reads
			m, err := c.Read()
			if ready && src.reads != reads {
				t.Fatalf("Buffered said true, then Read %d read the network (%v)", i, err)
			}
			if err != nil {
				if !c.Buffered() {
					t.Fatal("Buffered says false after the end")
				}
				return
			}
			if m.Type == transport.Text && !utf8.Valid(m.Payload) {
				t.Fatalf("text message with invalid UTF-8: %q", m.Payload)
			}
		}
		t.Fatal("input is finite, yet Read did not end with an error")
	})
}

// TestBufferedShortcutMatchesTheGeneralCase: wherever bufferedData answers
// for a frame (sure), its answer is the general case's, for random frame
// starts (every first byte, every length encoding, masked or not, cut
// anywhere, text valid or not) inside a fragmented message or not and
// with a frame size limit below some lengths; and it marks text checked
// exactly when the general case does.
func TestBufferedShortcutMatchesTheGeneralCase(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Mostly the frames the shortcut takes, but any first byte.
		ours := rapid.SampledFrom([]byte{0x81, 0x82})
		b0 := rapid.OneOf(ours, ours, rapid.Byte()).Draw(t, "b0")
		n := rapid.OneOf(rapid.IntRange(0, 700), rapid.IntRange(100, 700)).Draw(t, "length")
		var head []byte
		switch enc := rapid.IntRange(0, 2).Draw(t, "encoding"); {
		case enc == 0 && n < 126:
			head = []byte{b0, byte(n)}
		case enc <= 1:
			head = []byte{b0, 126, byte(n >> 8), byte(n)}
		default:
			head = rawHeader(b0, false, 64, uint64(n))
		}
		if rapid.IntRange(0, 9).Draw(t, "masked") == 0 {
			head[1] |= 0x80
		}
		var payload []byte
		if rapid.Bool().Draw(t, "text") {
			payload = []byte(rapid.StringN(n, n, -1).Draw(t, "runes"))[:n:n]
		} else {
			payload = rapid.SliceOfN(rapid.Byte(), n, n).Draw(t, "bytes")
		}
		in := append(head, payload...)
		if rapid.IntRange(0, 3).Draw(t, "cut") == 0 { // otherwise whole, and maybe more after it
			in = in[:rapid.IntRange(0, len(in)).Draw(t, "at")]
		} else if rapid.Bool().Draw(t, "more") {
			in = append(in, 0x82, 0)
		}
		frag := rapid.IntRange(0, 3).Draw(t, "fragmented") == 0
		limit := rapid.SampledFrom([]int64{3, 100, 1 << 20}).Draw(t, "frame limit")

		conn := func() *conn {
			o := defaultOptions()
			o.maxFrameSize = limit
			require.NoError(t, o.resolve())
			c := &conn{opts: &o}
			c.frag = frag
			return c
		}
		fast, general := conn(), conn()
		ready, sure := fast.bufferedData(in)
		if !sure {
			return
		}
		require.Equal(t, general.bufferedFrame(in, nil), ready, "frame % x", in[:min(len(in), 10)])
		require.Equal(t, general.textChecked, fast.textChecked, "text checked")
	})
}
