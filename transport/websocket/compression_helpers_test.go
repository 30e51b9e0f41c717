package websocket

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/internal/feedtest"
)

// withDeflate makes a test server negotiate permessage-deflate with want
// as its own parameters (gobwas's wsflate.Extension: it accepts an offer
// compatible with want and answers with want).
func withDeflate(want wsflate.Parameters) serverOption {
	return func(u *ws.Upgrader) {
		e := &wsflate.Extension{Parameters: want}
		u.Negotiate = e.Negotiate
	}
}

// deflater is a server's compression side: with takeover, one
// compress/flate writer for every message; without, a fresh one each time.
type deflater struct {
	takeover bool
	fw       *flate.Writer
	out      bytes.Buffer
}

// compress returns p as a permessage-deflate payload.
func (d *deflater) compress(t testing.TB, p []byte) []byte {
	t.Helper()
	d.out.Reset()
	if d.fw == nil || !d.takeover {
		var err error
		d.fw, err = flate.NewWriter(&d.out, flate.BestSpeed)
		require.NoError(t, err)
	}
	_, err := d.fw.Write(p)
	require.NoError(t, err)
	require.NoError(t, d.fw.Flush())
	b := d.out.Bytes()
	require.Equal(t, []byte{0, 0, 0xff, 0xff}, b[len(b)-4:])
	return bytes.Clone(b[:len(b)-4])
}

// inflater is a server's decompression side, keeping the client's context
// (the last 32 KiB inflated) unless reset.
type inflater struct {
	window []byte
}

// inflate inflates one permessage-deflate payload.
func (in *inflater) inflate(t *testing.T, p []byte, takeover bool) []byte {
	t.Helper()
	if !takeover {
		in.window = nil
	}
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader(inflateTail[:]))
	out, err := io.ReadAll(flate.NewReaderDict(src, in.window))
	require.NoError(t, err)
	in.window = append(in.window, out...)
	if len(in.window) > 32<<10 {
		in.window = in.window[len(in.window)-32<<10:]
	}
	return out
}

// writeCompressed writes payload as one compressed message of frames
// frames (at least 1), each frame but the first a continuation; between
// the first two it writes a ping when ping is true.
func (p *peer) writeCompressed(op ws.OpCode, z []byte, frames int, ping bool) error {
	step := max(1, (len(z)+frames-1)/frames)
	for i := 0; i < frames; i++ {
		lo, hi := min(i*step, len(z)), min((i+1)*step, len(z))
		if i == frames-1 {
			hi = len(z)
		}
		f := ws.NewFrame(ws.OpContinuation, i == frames-1, z[lo:hi])
		if i == 0 {
			f.Header.OpCode = op
			f.Header.Rsv = ws.Rsv(true, false, false)
		}
		if err := ws.WriteFrame(p.conn, f); err != nil {
			return err
		}
		if i == 0 && ping && frames > 1 {
			if err := p.write(ws.OpPing, true, []byte("between")); err != nil {
				return err
			}
		}
	}
	return nil
}

// readMessage reads the client's next data message, joined, and reports
// whether its first frame had RSV1; control frames are skipped.
func (p *peer) readMessage() (op ws.OpCode, payload []byte, compressed bool, err error) {
	first := true
	for {
		h, err := ws.ReadHeader(p.br)
		if err != nil {
			return 0, nil, false, err
		}
		b := make([]byte, h.Length)
		if _, err := io.ReadFull(p.br, b); err != nil {
			return 0, nil, false, err
		}
		if h.Masked {
			ws.Cipher(b, h.Mask, 0)
		}
		if h.OpCode.IsControl() {
			continue
		}
		if first {
			r1, _, _ := ws.RsvBits(h.Rsv)
			op, compressed, first = h.OpCode, r1, false
		}
		payload = append(payload, b...)
		if h.Fin {
			return op, payload, compressed, nil
		}
	}
}

// feed is message i of a realistic JSON feed: a batch of five metrics
// envelopes, about 500 bytes, over the compression threshold.
func feed(i int) []byte { return feedtest.Batch(5*i, 5) }
