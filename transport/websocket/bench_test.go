package websocket

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"

	"github.com/gobwas/ws"

	"github.com/tether-go/tether/transport"
)

// BenchmarkRead reads pre-encoded server frames from an in-memory
// connection that repeats them forever. The payload is borrowed, so the
// steady state should show 0 allocs/op.
func BenchmarkRead(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{
		{"16B", 16},
		{"128B", 128},
		{"1KiB", 1 << 10},
		{"64KiB", 64 << 10},
	} {
		b.Run(size.name, func(b *testing.B) {
			var frame bytes.Buffer
			_ = ws.WriteFrame(&frame, ws.NewBinaryFrame(bytes.Repeat([]byte{'x'}, size.n)))
			o := defaultOptions()
			_ = o.resolve()
			c := newConn(&memConn{in: &loopReader{data: frame.Bytes()}}, nil, &o, "")
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := c.Read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReassemble reads a 16 MiB message joined from 4 KiB fragments
// and the same message in one frame, from an in-memory connection that
// repeats it. Joining is linear: the two should stay within 2x of each
// other.
func BenchmarkReassemble(b *testing.B) {
	const size = 16 << 20
	for _, bc := range []struct {
		name string
		frag int
	}{
		{"4KiB-fragments", 4 << 10},
		{"one-frame", size},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := defaultOptions()
			_ = o.resolve()
			c := newConn(&memConn{in: &loopReader{data: fragmented(size, bc.frag)}}, nil, &o, "")
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadText is BenchmarkRead for text messages, which adds the
// UTF-8 check.
func BenchmarkReadText(b *testing.B) {
	var frame bytes.Buffer
	_ = ws.WriteFrame(&frame, ws.NewTextFrame(bytes.Repeat([]byte{'x'}, 1<<10)))
	o := defaultOptions()
	_ = o.resolve()
	c := newConn(&memConn{in: &loopReader{data: frame.Bytes()}}, nil, &o, "")
	b.SetBytes(1 << 10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Read(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite writes 64-byte messages into a connection that discards
// them, from one goroutine and from several at once.
func BenchmarkWrite(b *testing.B) {
	payload := bytes.Repeat([]byte{'y'}, 64)
	o := defaultOptions()
	o.writeBufSize = 64 << 10
	_ = o.resolve()
	b.Run("serial", func(b *testing.B) {
		c := newConn(&discardConn{}, nil, &o, "")
		b.SetBytes(64)
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			if err := c.Write(ctx, transport.Binary, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		c := newConn(&discardConn{}, nil, &o, "")
		b.SetBytes(64)
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if err := c.Write(ctx, transport.Binary, payload); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// discardConn is a net.Conn that accepts every write.
type discardConn struct{ memConn }

func (*discardConn) Write(p []byte) (int, error) { return len(p), nil }
func (*discardConn) Read([]byte) (int, error)    { return 0, io.EOF }

var _ net.Conn = (*discardConn)(nil)

// BenchmarkBuffered is a batching reader's loop: Read, then Buffered to
// decide whether to read on before handing the batch over. Compare with
// BenchmarkRead and BenchmarkReadText for the cost of Buffered; for text,
// Buffered's UTF-8 check replaces Read's.
func BenchmarkBuffered(b *testing.B) {
	for _, bc := range []struct {
		name  string
		frame ws.Frame
	}{
		{"16B", ws.NewBinaryFrame(bytes.Repeat([]byte{'x'}, 16))},
		{"text-1KiB", ws.NewTextFrame(bytes.Repeat([]byte{'x'}, 1<<10))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var frame bytes.Buffer
			_ = ws.WriteFrame(&frame, bc.frame)
			o := defaultOptions()
			_ = o.resolve()
			c := newConn(&memConn{in: &loopReader{data: frame.Bytes()}}, nil, &o, "")
			b.SetBytes(bc.frame.Header.Length)
			b.ReportAllocs()
			buffered := 0
			for b.Loop() {
				if _, err := c.Read(); err != nil {
					b.Fatal(err)
				}
				if c.Buffered() {
					buffered++
				}
			}
			b.ReportMetric(float64(buffered)/float64(b.N), "buffered/op")
		})
	}
}
