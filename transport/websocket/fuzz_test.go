package websocket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tether-go/tether/transport"
)

// FuzzReadHostile feeds arbitrary server bytes into the read path of a
// connection. Read must never panic or hang, must end in a typed error,
// and everything the client wrote back must be well-formed masked frames.
// The seed corpus is in testdata/fuzz/FuzzReadHostile.
func FuzzReadHostile(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		o := defaultOptions()
		o.maxMessageSize = 1 << 16
		if err := o.resolve(); err != nil {
			t.Fatal(err)
		}
		nc := &memConn{in: bytes.NewReader(data)}
		c := newConn(nc, nil, &o, "")

		readHostile(t, c, nc, len(data), o.maxMessageSize)
	})
}

// readHostile reads c, a connection over the finite input of nc (n bytes),
// until it ends, and checks what it returned, how it ended (typed, and
// reported by Err) and what the client wrote back (well-formed masked
// frames), as FuzzReadHostile and FuzzReadCompressed require.
func readHostile(t *testing.T, c *conn, nc *memConn, n int, limit int64) {
	t.Helper()
	var err error
	// Every Read consumes at least two bytes or ends the connection.
	for i := 0; i <= n/2+1 && err == nil; i++ {
		var m transport.Message
		m, err = c.Read()
		if err != nil {
			break
		}
		switch m.Type {
		case transport.Text:
			if !utf8.Valid(m.Payload) {
				t.Fatalf("text message with invalid UTF-8: %q", m.Payload)
			}
		case transport.Binary, transport.Ping, transport.Pong:
		default:
			t.Fatalf("unexpected message type %v", m.Type)
		}
		if int64(len(m.Payload)) > limit {
			t.Fatalf("message of %d bytes passed the limit", len(m.Payload))
		}
	}
	if err == nil {
		t.Fatal("input is finite, yet Read did not end with an error")
	}
	checkHostileError(t, err)
	if c.Err() != err {
		t.Fatalf("Read returned %v, Err reports %v", err, c.Err())
	}
	if cerr := c.Close(transport.StatusNormalClosure, ""); cerr != nil {
		t.Fatalf("Close after the end: %v", cerr)
	}
	checkClientFrames(t, nc.written())
}

// checkHostileError accepts only the typed endings of the read path.
func checkHostileError(t *testing.T, err error) {
	t.Helper()
	var ce *transport.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("untyped error: %v", err)
	}
	switch {
	case ce.Remote:
		if !ce.Code.Sendable() && ce.Code != transport.StatusNoStatusReceived {
			t.Fatalf("remote close with code %d accepted", ce.Code)
		}
	case ce.Code == transport.StatusAbnormalClosure:
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("abnormal closure with an unexpected cause: %v", err)
		}
	case ce.Code == transport.StatusProtocolError:
		if !errors.Is(err, transport.ErrProtocol) {
			t.Fatalf("1002 without ErrProtocol: %v", err)
		}
	case ce.Code == transport.StatusInvalidPayloadData:
		if !errors.Is(err, transport.ErrInvalidUTF8) && !errors.Is(err, ErrInflate) {
			t.Fatalf("1007 without ErrInvalidUTF8 or ErrInflate: %v", err)
		}
	case ce.Code == transport.StatusMessageTooBig:
		if !errors.Is(err, transport.ErrMessageTooLarge) {
			t.Fatalf("1009 without ErrMessageTooLarge: %v", err)
		}
	default:
		t.Fatalf("unexpected ending: %v", err)
	}
}

// checkClientFrames parses what the client wrote: only masked, final pong
// and close frames, at most one close, with a sendable code if any.
func checkClientFrames(t *testing.T, out []byte) {
	t.Helper()
	r := bytes.NewReader(out)
	closes := 0
	for r.Len() > 0 {
		h, err := ws.ReadHeader(r)
		if err != nil {
			t.Fatalf("client wrote a broken header: %v", err)
		}
		if !h.Masked || !h.Fin {
			t.Fatalf("client frame not masked or not final: %+v", h)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(r, p); err != nil {
			t.Fatalf("client frame cut short: %v", err)
		}
		ws.Cipher(p, h.Mask, 0)
		switch h.OpCode {
		case ws.OpPong:
			if closes > 0 {
				t.Fatal("pong after close")
			}
		case ws.OpClose:
			closes++
			if len(p) == 1 {
				t.Fatal("close frame with a 1-byte payload")
			}
			if len(p) >= 2 && !transport.StatusCode(binary.BigEndian.Uint16(p)).Sendable() {
				t.Fatalf("client sent close code %d", binary.BigEndian.Uint16(p))
			}
		default:
			t.Fatalf("client wrote opcode %v", h.OpCode)
		}
	}
	if closes > 1 {
		t.Fatalf("client wrote %d close frames", closes)
	}
}

// TestParseHeaderMatchesGobwas: the in-place header parser (the reader's
// fast path) reads every header it accepts exactly as gobwas does, and
// consumes the same bytes; what it declines goes to gobwas itself.
func TestParseHeaderMatchesGobwas(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := rapid.SliceOfN(rapid.Byte(), 0, 16).Draw(t, "bytes")
		h, n, ok := parseHeader(b)
		if !ok {
			return
		}
		r := bytes.NewReader(b)
		var buf [ws.MaxHeaderSize - 2]byte
		want, err := ws.ReadHeaderBuffer(r, buf[:])
		require.NoError(t, err, "gobwas rejects a header parseHeader accepted")
		require.Equal(t, want, h)
		require.Equal(t, len(b)-r.Len(), n, "bytes consumed")
	})
}

// TestPlainDataPassesCheckHeader: every header the reader lets past without
// ws.CheckHeader (plainData) is one CheckHeader accepts, with and without
// an extension negotiated.
func TestPlainDataPassesCheckHeader(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := ws.Header{
			Fin:    rapid.Bool().Draw(t, "fin"),
			Rsv:    rapid.ByteRange(0, 7).Draw(t, "rsv"),
			OpCode: ws.OpCode(rapid.ByteRange(0, 15).Draw(t, "op")),
			Masked: rapid.Bool().Draw(t, "masked"),
			Length: rapid.Int64Range(0, 1<<20).Draw(t, "length"),
		}
		frag := rapid.Bool().Draw(t, "frag")
		if !plainData(h, frag) {
			return
		}
		state := ws.StateClientSide
		require.NoError(t, ws.CheckHeader(h, state))
		require.NoError(t, ws.CheckHeader(h, state|ws.StateExtended))
	})
}

// TestSmallFramePathMatchesTheGeneralOne: the reader's shortcut for small
// buffered messages (conn.small) returns exactly what the general path
// returns, and ends the same way, for any sequence of frames, well-formed
// or not: masked ones, reserved bits and opcodes, fragments, control
// frames, invalid UTF-8, lengths in every encoding, a size limit below
// 125 bytes. The general path is forced on the second connection by an
// idle read timeout, which the shortcut declines.
func TestSmallFramePathMatchesTheGeneralOne(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var in []byte
		for range rapid.IntRange(1, 12).Draw(t, "frames") {
			b0 := rapid.SampledFrom([]byte{0x81, 0x82, 0x01, 0x02, 0x80, 0x00, 0x89, 0x8a, 0x88, 0xc1, 0x83, 0x8b}).Draw(t, "b0")
			var payload []byte
			if rapid.Bool().Draw(t, "utf8") {
				payload = []byte(rapid.StringN(0, 60, -1).Draw(t, "text"))
			} else {
				payload = rapid.SliceOfN(rapid.Byte(), 0, 700).Draw(t, "bytes") // 12 of them cross the 4 KiB buffer
			}
			masked := rapid.IntRange(0, 9).Draw(t, "masked") == 0
			in = append(in, b0)
			mask := byte(0)
			if masked {
				mask = 0x80
			}
			switch n := len(payload); {
			case n < 126 && !rapid.Bool().Draw(t, "long form"):
				in = append(in, mask|byte(n))
			default:
				in = append(in, mask|126, byte(n>>8), byte(n))
			}
			if masked {
				in = append(in, 1, 2, 3, 4)
			}
			in = append(in, payload...)
		}
		limit := rapid.SampledFrom([]int64{100, 1 << 16}).Draw(t, "limit")
		read := func(general bool) (msgs []transport.Message, end error) {
			o := defaultOptions()
			o.maxMessageSize = limit
			if general {
				o.readTimeout = time.Hour
			}
			if err := o.resolve(); err != nil {
				t.Fatal(err)
			}
			c := newConn(&memConn{in: bytes.NewReader(in)}, nil, &o, "")
			defer func() { _ = c.Close(transport.StatusNormalClosure, "") }()
			for {
				m, err := c.Read()
				if err != nil {
					return msgs, err
				}
				var p []byte // an empty payload is an empty payload, nil or not
				if len(m.Payload) > 0 {
					p = bytes.Clone(m.Payload)
				}
				msgs = append(msgs, transport.Message{Type: m.Type, Payload: p})
			}
		}
		fastMsgs, fastEnd := read(false)
		slowMsgs, slowEnd := read(true)
		require.Equal(t, slowMsgs, fastMsgs)
		fastCode, _ := transport.CloseCode(fastEnd)
		slowCode, _ := transport.CloseCode(slowEnd)
		require.Equal(t, slowCode, fastCode, "ended with %v, the general path with %v", fastEnd, slowEnd)
	})
}
