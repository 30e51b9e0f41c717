package websocket

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// compressedPair dials a server that negotiates permessage-deflate with
// want, offering cfg.
func compressedPair(t *testing.T, cfg Compression, want wsflate.Parameters, opts ...Option) (transport.Conn, *peer) {
	t.Helper()
	s := newServer(t, withDeflate(want))
	c := dial(t, newTransport(t, append([]Option{WithCompression(cfg)}, opts...)...), transport.Target{URL: s.url})
	// Before dial's Close: the test server does not answer a close.
	t.Cleanup(func() { _ = c.Close(transport.StatusAbnormalClosure, "") })
	return c, s.next()
}

// TestCompressionRoundTrip: both directions, with the server's context
// taken over or not, and the client's: every message arrives whole, the
// client compresses what is over the threshold and only that, and the
// negotiated parameters are visible on the connection.
func TestCompressionRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name           string
		cfg            Compression
		serverTakeover bool
		clientTakeover bool
	}{
		{"defaults", Compression{}, true, false},
		{"no takeover", Compression{ServerNoContextTakeover: true}, false, false},
		{"both takeover", Compression{ClientContextTakeover: true}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := wsflate.Parameters{
				ServerNoContextTakeover: !tc.serverTakeover,
				ClientNoContextTakeover: !tc.clientTakeover,
			}
			c, p := compressedPair(t, tc.cfg, want)
			n, ok := CompressionOf(c)
			require.True(t, ok)
			assert.Equal(t, Negotiated{
				ServerNoContextTakeover: !tc.serverTakeover, ClientNoContextTakeover: !tc.clientTakeover,
				ServerMaxWindowBits: 15, ClientMaxWindowBits: 15,
			}, n)

			reads := readLoop(c)
			d := &deflater{takeover: tc.serverTakeover}
			var in inflater
			for i := range 50 {
				msg := feed(i)
				require.NoError(t, p.writeCompressed(ws.OpText, d.compress(t, msg), 1, false))
				r := next(t, reads)
				require.NoError(t, r.err)
				require.Equal(t, transport.Text, r.m.Type)
				require.Equal(t, string(msg), string(r.m.Payload))

				require.NoError(t, c.Write(context.Background(), transport.Text, msg))
				op, got, compressed, err := p.readMessage()
				require.NoError(t, err)
				require.Equal(t, ws.OpText, op)
				require.True(t, compressed, "a %d-byte message is over the threshold", len(msg))
				require.Less(t, len(got), len(msg))
				require.Equal(t, string(msg), string(in.inflate(t, got, tc.clientTakeover)))
			}

			// Under the threshold, and asked for: uncompressed.
			require.NoError(t, c.Write(context.Background(), transport.Binary, []byte("short")))
			_, got, compressed, err := p.readMessage()
			require.NoError(t, err)
			assert.False(t, compressed)
			assert.Equal(t, "short", string(got))
			big := bytes.Repeat([]byte("already compressed "), 100)
			require.NoError(t, WriteUncompressed(context.Background(), c, transport.Binary, big))
			_, got, compressed, err = p.readMessage()
			require.NoError(t, err)
			assert.False(t, compressed)
			assert.Equal(t, big, got)

			// An uncompressed message from the server between compressed ones.
			require.NoError(t, p.write(ws.OpBinary, true, []byte("plain")))
			r := next(t, reads)
			require.NoError(t, r.err)
			assert.Equal(t, "plain", string(r.m.Payload))
			msg := feed(99)
			require.NoError(t, p.writeCompressed(ws.OpText, d.compress(t, msg), 1, false))
			r = next(t, reads)
			require.NoError(t, r.err)
			assert.Equal(t, string(msg), string(r.m.Payload))
		})
	}
}

// TestCompressionFragmented: a compressed message in many frames, with a
// ping between the first two, inflates whole; the ping is returned (and
// answered) before the message.
func TestCompressionFragmented(t *testing.T) {
	for _, takeover := range []bool{true, false} {
		t.Run(fmt.Sprintf("takeover=%v", takeover), func(t *testing.T) {
			c, p := compressedPair(t, Compression{}, wsflate.Parameters{ServerNoContextTakeover: !takeover, ClientNoContextTakeover: true})
			reads := readLoop(c)
			d := &deflater{takeover: takeover}
			for i := range 5 {
				var msg []byte
				for k := range 40 {
					msg = append(msg, feed(i*40+k)...)
				}
				require.NoError(t, p.writeCompressed(ws.OpBinary, d.compress(t, msg), 7, true))
				r := next(t, reads)
				require.NoError(t, r.err)
				require.Equal(t, transport.Ping, r.m.Type)
				assert.Equal(t, "between", string(r.m.Payload))
				r = next(t, reads)
				require.NoError(t, r.err)
				require.Equal(t, transport.Binary, r.m.Type)
				require.Equal(t, msg, r.m.Payload)
			}
		})
	}
}

// TestCompressionDeclined: a server without the extension leaves the
// connection uncompressed: CompressionOf says so, and Write sends plain
// frames.
func TestCompressionDeclined(t *testing.T) {
	s := newServer(t)
	c := dial(t, newTransport(t, WithCompression(Compression{Threshold: -1})), transport.Target{URL: s.url})
	t.Cleanup(func() { _ = c.Close(transport.StatusAbnormalClosure, "") })
	p := s.next()
	_, ok := CompressionOf(c)
	assert.False(t, ok)
	msg := feed(1)
	require.NoError(t, c.Write(context.Background(), transport.Text, msg))
	_, got, compressed, err := p.readMessage()
	require.NoError(t, err)
	assert.False(t, compressed)
	assert.Equal(t, msg, got)
}

// TestCompressionClientWindowLimited: a server that limits the client's
// window (client_max_window_bits=9) gets messages no longer than 512 bytes
// compressed, each on its own, and longer ones uncompressed.
func TestCompressionClientWindowLimited(t *testing.T) {
	// gobwas's wsflate.Extension declines a limit on an offer without a
	// value, which RFC 7692 allows: the answer is written by hand.
	s := newRawServer(t, func(_ *http.Request, accept string) []byte {
		return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9\r\n\r\n")
	})
	c := dial(t, newTransport(t, WithCompression(Compression{ClientContextTakeover: true})), transport.Target{URL: s.url})
	t.Cleanup(func() { _ = c.Close(transport.StatusAbnormalClosure, "") })
	sc := <-s.conns
	p := &peer{t: t, conn: sc, br: bufio.NewReader(sc)}
	n, ok := CompressionOf(c)
	require.True(t, ok)
	assert.Equal(t, 9, n.ClientMaxWindowBits)
	var in inflater
	small := bytes.Repeat([]byte("abcdefgh"), 64) // 512 bytes
	require.NoError(t, c.Write(context.Background(), transport.Binary, small))
	_, got, compressed, err := p.readMessage()
	require.NoError(t, err)
	require.True(t, compressed)
	assert.Equal(t, small, in.inflate(t, got, false))
	large := bytes.Repeat([]byte("abcdefgh"), 65)
	require.NoError(t, c.Write(context.Background(), transport.Binary, large))
	_, got, compressed, err = p.readMessage()
	require.NoError(t, err)
	assert.False(t, compressed)
	assert.Equal(t, large, got)
}

// TestCompressionServerWindow: server_max_window_bits offered is kept to;
// the client's window then holds 2^bits bytes.
func TestCompressionServerWindow(t *testing.T) {
	c, p := compressedPair(t, Compression{ServerMaxWindowBits: 10},
		wsflate.Parameters{ServerMaxWindowBits: 10, ClientNoContextTakeover: true})
	n, ok := CompressionOf(c)
	require.True(t, ok)
	assert.Equal(t, 10, n.ServerMaxWindowBits)
	reads := readLoop(c)
	// A raw deflate stream that refers back 1,000 bytes, into the previous
	// message: within a 1 KiB window.
	d := &deflater{takeover: true}
	first := bytes.Repeat([]byte("0123456789"), 100)
	require.NoError(t, p.writeCompressed(ws.OpBinary, d.compress(t, first), 1, false))
	require.Equal(t, first, next(t, reads).m.Payload)
	require.NoError(t, p.writeCompressed(ws.OpBinary, d.compress(t, first), 1, false))
	require.Equal(t, first, next(t, reads).m.Payload)
	fl := c.(*conn).fl
	assert.Len(t, fl.dict(), 1024)
	assert.Equal(t, first[len(first)-24:], fl.dict()[1000:], "the window ends with the last bytes inflated")
	assert.LessOrEqual(t, cap(fl.window), 1024+128)
}

// TestCompressionBadAnswer: a server that accepts permessage-deflate with
// parameters the offer does not allow fails the dial with ErrBadHandshake,
// at once, and nothing is left open.
func TestCompressionBadAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Compression
		answer string
		says   string // what the error must name, when it matters
	}{
		{"server_no_context_takeover dropped", Compression{ServerNoContextTakeover: true}, "permessage-deflate", ""},
		{"server window larger than offered", Compression{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=12", ""},
		{"server window not said when offered", Compression{ServerMaxWindowBits: 10}, "permessage-deflate",
			"without the server_max_window_bits=10 offered"},
		{"client_max_window_bits without value", Compression{}, "permessage-deflate;client_max_window_bits", ""},
		{"window bits out of range", Compression{}, "permessage-deflate; server_max_window_bits=16", ""},
		{"unknown parameter", Compression{}, "permessage-deflate; level=9", ""},
		{"duplicate parameter", Compression{}, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", ""},
		{"selected twice", Compression{}, "permessage-deflate, permessage-deflate", ""},
		{"another extension", Compression{}, "x-webkit-deflate-frame", "it offers permessage-deflate only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRawServer(t, func(_ *http.Request, accept string) []byte {
				return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
					"Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Extensions: " + tc.answer + "\r\n\r\n")
			})
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			_, err := newTransport(t, WithCompression(tc.cfg)).Dial(ctx, transport.Target{URL: s.url})
			require.ErrorIs(t, err, transport.ErrBadHandshake)
			var he *transport.HandshakeError
			require.ErrorAs(t, err, &he)
			if tc.says != "" {
				assert.Contains(t, err.Error(), tc.says, "the error names what the answer got wrong")
			}
		})
	}
}

// TestCompressionOffer: what the client offers, for each setting.
func TestCompressionOffer(t *testing.T) {
	for _, tc := range []struct {
		cfg  Compression
		want string
	}{
		{Compression{}, "permessage-deflate;client_no_context_takeover;client_max_window_bits"},
		{Compression{ClientContextTakeover: true}, "permessage-deflate;client_max_window_bits"},
		{Compression{ServerNoContextTakeover: true, ServerMaxWindowBits: 12},
			"permessage-deflate;server_no_context_takeover;client_no_context_takeover;server_max_window_bits=12;client_max_window_bits"},
	} {
		got := make(chan string, 1)
		s := newRawServer(t, func(r *http.Request, accept string) []byte {
			got <- r.Header.Get("Sec-WebSocket-Extensions")
			return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + accept + "\r\n\r\n")
		})
		c := dial(t, newTransport(t, WithCompression(tc.cfg)), transport.Target{URL: s.url})
		assert.Equal(t, tc.want, <-got)
		_, ok := CompressionOf(c)
		assert.False(t, ok, "the server declined")
		require.NoError(t, c.Close(transport.StatusAbnormalClosure, ""))
	}
}

// TestCompressionOptionErrors: values out of range are typed errors of New.
func TestCompressionOptionErrors(t *testing.T) {
	for _, cfg := range []Compression{
		{Level: 10}, {Level: -3}, {ServerMaxWindowBits: 7}, {ServerMaxWindowBits: 16},
	} {
		_, err := New(WithCompression(cfg))
		require.ErrorIs(t, err, ErrInvalidOption, "%+v", cfg)
		var oe *OptionError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "WithCompression", oe.Option)
	}
	for _, cfg := range []Compression{{Level: flate.HuffmanOnly}, {Level: flate.DefaultCompression}, {Level: 9, ServerMaxWindowBits: 8}} {
		_, err := New(WithCompression(cfg))
		assert.NoError(t, err, "%+v", cfg)
	}
	tr, err := New(WithCompression(Compression{}), WithoutCompression())
	require.NoError(t, err)
	assert.Nil(t, tr.opts.compression)
}

// TestCompressionHostile: frames that break RFC 7692 close with 1002,
// corrupt deflate data with 1007 (ErrInflate), and a message that inflates
// past the limit with 1009; the server receives that code.
func TestCompressionHostile(t *testing.T) {
	z := (&deflater{}).compress(t, []byte("hello, compressed world"))
	for _, tc := range []struct {
		name    string
		deflate bool
		frames  func(p *peer) error
		code    transport.StatusCode
		cause   error
	}{
		{"RSV1 without the extension", false, func(p *peer) error {
			return p.writeCompressed(ws.OpText, z, 1, false)
		}, transport.StatusProtocolError, transport.ErrProtocol},
		{"RSV1 on a control frame", true, func(p *peer) error {
			f := ws.NewPingFrame([]byte("x"))
			f.Header.Rsv = ws.Rsv(true, false, false)
			return ws.WriteFrame(p.conn, f)
		}, transport.StatusProtocolError, wsflate.ErrUnexpectedCompressionBit},
		{"RSV1 on a continuation frame", true, func(p *peer) error {
			if err := p.write(ws.OpText, false, []byte("plain ")); err != nil {
				return err
			}
			f := ws.NewFrame(ws.OpContinuation, true, z)
			f.Header.Rsv = ws.Rsv(true, false, false)
			return ws.WriteFrame(p.conn, f)
		}, transport.StatusProtocolError, wsflate.ErrUnexpectedCompressionBit},
		{"RSV1 on a continuation of a compressed message", true, func(p *peer) error {
			f := ws.NewFrame(ws.OpText, false, z[:3])
			f.Header.Rsv = ws.Rsv(true, false, false)
			if err := ws.WriteFrame(p.conn, f); err != nil {
				return err
			}
			f = ws.NewFrame(ws.OpContinuation, true, z[3:])
			f.Header.Rsv = ws.Rsv(true, false, false)
			return ws.WriteFrame(p.conn, f)
		}, transport.StatusProtocolError, wsflate.ErrUnexpectedCompressionBit},
		{"RSV2 with the extension", true, func(p *peer) error {
			f := ws.NewFrame(ws.OpText, true, z)
			f.Header.Rsv = ws.Rsv(false, true, false)
			return ws.WriteFrame(p.conn, f)
		}, transport.StatusProtocolError, transport.ErrProtocol},
		{"corrupt deflate data", true, func(p *peer) error {
			return p.writeCompressed(ws.OpBinary, []byte{0xff, 0xff, 0xff, 0xff}, 1, false)
		}, transport.StatusInvalidPayloadData, ErrInflate},
		{"invalid UTF-8 once inflated", true, func(p *peer) error {
			return p.writeCompressed(ws.OpText, (&deflater{}).compress(t, []byte("ok \xff")), 1, false)
		}, transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8},
		{"inflates past the limit", true, func(p *peer) error {
			return p.writeCompressed(ws.OpBinary, (&deflater{}).compress(t, make([]byte, 64<<10+1)), 1, false)
		}, transport.StatusMessageTooBig, transport.ErrMessageTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []Option{WithMaxMessageSize(64 << 10)}
			var c transport.Conn
			var p *peer
			if tc.deflate {
				c, p = compressedPair(t, Compression{}, wsflate.Parameters{}, opts...)
			} else {
				c, p, _ = connectPair(t, opts...)
			}
			sent := make(chan transport.StatusCode, 1)
			reason := make(chan string, 1)
			written := make(chan struct{})
			go func() {
				if code, why, ok := p.readClose(); ok {
					sent <- code
					reason <- why
				}
				<-written // then hang up, as the close handshake asks
				p.conn.Close()
			}()
			reads := readLoop(c)
			err := tc.frames(p)
			close(written)
			require.NoError(t, err)
			var r result
			for r = next(t, reads); r.err == nil; r = next(t, reads) {
				require.NotEqual(t, transport.Text, r.m.Type, "no message may come out")
			}
			ce := closeErr(t, r.err)
			assert.Equal(t, tc.code, ce.Code)
			assert.False(t, ce.Remote)
			assert.ErrorIs(t, r.err, tc.cause)
			assert.Equal(t, tc.code, <-sent, "close code on the wire")
			// The reason on the wire says what went wrong: corrupt deflate
			// data was sent as "invalid UTF-8" (an outside review).
			if why := <-reason; errors.Is(tc.cause, ErrInflate) {
				assert.Equal(t, "compressed message does not inflate", why)
			} else if tc.code == transport.StatusInvalidPayloadData {
				assert.Equal(t, "invalid UTF-8", why)
			}
			waitDone(t, c)
		})
	}
}

// TestCompressionBomb: a frame of about 1.3 MB that inflates to 1 GiB ends
// with 1009 after inflating no more than the limit (the default 16 MiB):
// the read takes a few kilobytes of the frame, the message buffer never
// passes the limit, and the Read allocates less than twice the limit (the
// buffer doubles on its way there).
func TestCompressionBomb(t *testing.T) {
	// Sync-flushed deflate blocks may follow one another: 1,024 copies of
	// 1 MiB of zeros, compressed, inflate to 1 GiB.
	one := (&deflater{}).compress(t, make([]byte, 1<<20))
	var z bytes.Buffer
	for range 1024 {
		z.Write(one)
		z.Write([]byte{0, 0, 0xff, 0xff})
	}
	var in bytes.Buffer
	f := ws.NewFrame(ws.OpBinary, true, z.Bytes())
	f.Header.Rsv = ws.Rsv(true, false, false)
	require.NoError(t, ws.WriteFrame(&in, f))
	t.Logf("bomb: a frame of %d bytes that inflates to 1 GiB", in.Len())

	o := defaultOptions()
	require.NoError(t, o.resolve())
	limit := o.maxMessageSize
	// The input gives 64 KiB, then waits until the test has its verdict:
	// a Read that needed more would never return.
	src := &gatedReader{r: bytes.NewReader(in.Bytes()), free: 64 << 10, gate: make(chan struct{})}
	defer close(src.gate) // the background close drains the rest
	c := newConn(&memConn{in: src}, nil, &o, "")
	c.fl = newDeflate(&Compression{Level: 1, Threshold: 128}, Negotiated{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15})
	t.Cleanup(func() { _ = c.Close(transport.StatusAbnormalClosure, "") })

	type verdict struct {
		err    error
		allocs uint64
	}
	done := make(chan verdict, 1)
	go func() {
		var err error
		allocs := allocated(func() { _, err = c.Read() })
		done <- verdict{err, allocs}
	}()
	select {
	case v := <-done:
		ce := closeErr(t, v.err)
		assert.Equal(t, transport.StatusMessageTooBig, ce.Code)
		assert.ErrorIs(t, v.err, transport.ErrMessageTooLarge)
		t.Logf("read %d bytes of the frame, allocated %d bytes", src.n.Load(), v.allocs)
		assert.Less(t, v.allocs, uint64(2*limit+1<<20), "bytes allocated by the Read")
		assert.LessOrEqual(t, int64(cap(c.buf)), limit, "the message buffer")
	case <-time.After(wait):
		require.FailNow(t, "Read wanted more than 64 KiB of the frame")
	}
}

// TestCompressionFuzzSeedsInflate: the seeds of FuzzReadCompressed are what
// they claim: valid compressed messages read back whole.
func TestCompressionFuzzSeedsInflate(t *testing.T) {
	for _, seed := range compressedSeeds(t) {
		o := defaultOptions()
		require.NoError(t, o.resolve())
		c := newConn(&memConn{in: bytes.NewReader(seed.data)}, nil, &o, "")
		c.fl = newDeflate(&Compression{Level: 1, Threshold: 128}, seed.n)
		var got []string
		for {
			m, err := transport.ReadOwned(c)
			if err != nil {
				assert.ErrorIs(t, err, io.EOF, "%s: the input ends", seed.name)
				break
			}
			if m.Type.IsData() {
				got = append(got, string(m.Payload))
			}
		}
		assert.Equal(t, seed.want, strings.Join(got, "|"), seed.name)
		require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	}
}

// TestCompressionWindow: whatever the sizes of the messages, the window
// handed to compress/flate is the last 2^bits bytes inflated, and the
// window never holds more than an eighth more.
func TestCompressionWindow(t *testing.T) {
	for _, bits := range []int{8, 10, 15} {
		f := newDeflate(&Compression{Level: 1}, Negotiated{ServerMaxWindowBits: bits})
		size := 1 << max(bits, 9)
		var all []byte
		for i := range 400 {
			out := bytes.Repeat([]byte{byte(i)}, (i*7919)%(size/3)+i%2)
			if i%97 == 0 {
				out = bytes.Repeat([]byte{byte(i)}, size+5)
			}
			f.keep(out)
			all = append(all, out...)
			require.Equal(t, all[max(0, len(all)-size):], f.dict(), "bits %d, message %d", bits, i)
			require.LessOrEqual(t, cap(f.window), size+size/8)
		}
	}
}
