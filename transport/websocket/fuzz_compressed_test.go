package websocket

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

// FuzzReadCompressed feeds arbitrary server bytes into the read path of a
// connection with permessage-deflate negotiated (the first byte of the
// input picks the parameters: context takeover or not, the server's
// window). Read must never panic or hang, must end in a typed error, must
// never return a message past the limit or text that is not UTF-8, and
// what the client wrote back must be well-formed masked frames. The seeds
// are valid compressed messages, whole and fragmented, with a ping
// between fragments.
func FuzzReadCompressed(f *testing.F) {
	for _, s := range compressedSeeds(f) {
		param := byte(7 << 1) // a 32 KiB window
		if s.n.ServerNoContextTakeover {
			param |= 1
		}
		f.Add(append([]byte{param}, s.data...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		o := defaultOptions()
		o.maxMessageSize = 1 << 16
		if err := o.resolve(); err != nil {
			t.Fatal(err)
		}
		n := Negotiated{
			ServerNoContextTakeover: data[0]&1 != 0,
			ServerMaxWindowBits:     8 + int(data[0]>>1)%8,
			ClientMaxWindowBits:     15,
		}
		nc := &memConn{in: bytes.NewReader(data[1:])}
		c := newConn(nc, nil, &o, "")
		c.fl = newDeflate(&Compression{Level: 1, Threshold: 128}, n)

		readHostile(t, c, nc, len(data), o.maxMessageSize)
	})
}

// compressedSeed is a valid input of compressed messages (without the
// parameter byte FuzzReadCompressed reads first).
type compressedSeed struct {
	name string
	n    Negotiated
	data []byte // server frames
	want string // the data messages, joined with "|"
}

// compressedSeeds builds the seeds: with and without context takeover,
// whole and fragmented (with a ping between fragments), text and binary.
func compressedSeeds(t testing.TB) []compressedSeed {
	var out []compressedSeed
	for _, takeover := range []bool{true, false} {
		d := &deflater{takeover: takeover}
		var b bytes.Buffer
		var want []string
		for i := range 3 {
			msg := feed(i)
			z := d.compress(t, msg)
			fr := ws.NewFrame(ws.OpText, true, z)
			fr.Header.Rsv = ws.Rsv(true, false, false)
			if i == 1 {
				fr = ws.NewFrame(ws.OpText, false, z[:len(z)/2])
				fr.Header.Rsv = ws.Rsv(true, false, false)
				must(t, ws.WriteFrame(&b, fr))
				must(t, ws.WriteFrame(&b, ws.NewPingFrame([]byte("p"))))
				fr = ws.NewFrame(ws.OpContinuation, true, z[len(z)/2:])
			}
			must(t, ws.WriteFrame(&b, fr))
			want = append(want, string(msg))
		}
		must(t, ws.WriteFrame(&b, ws.NewBinaryFrame([]byte("plain"))))
		want = append(want, "plain")
		name := "no takeover"
		if takeover {
			name = "takeover"
		}
		out = append(out, compressedSeed{
			name: name,
			n:    Negotiated{ServerNoContextTakeover: !takeover, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
			data: b.Bytes(),
			want: strings.Join(want, "|"),
		})
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	require.NoError(t, err)
}

// gatedReader gives the first free bytes of r, then waits until gate is
// closed before it gives more. n counts the bytes given.
type gatedReader struct {
	r    io.Reader
	free int64
	n    atomic.Int64
	gate chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	n := g.n.Load()
	if n >= g.free {
		<-g.gate
	} else {
		p = p[:min(int64(len(p)), g.free-n)]
	}
	k, err := g.r.Read(p)
	g.n.Add(int64(k))
	return k, err
}

// allocated returns the bytes the process allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
