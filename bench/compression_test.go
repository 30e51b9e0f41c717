package bench

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	gorilla "github.com/gorilla/websocket"

	"github.com/tether-go/tether/internal/feedtest"
	"github.com/tether-go/tether/transport"
	tws "github.com/tether-go/tether/transport/websocket"
)

// BenchmarkCompression measures permessage-deflate on a realistic JSON
// feed (feedtest: the metrics example's envelopes, about 100 bytes each,
// alone as feed=msg or ten to a message as feed=batch10), per message, for
// tether and for gorilla's and coder's compression, and tether without
// compression as the reference:
//
//   - dir=receive: a loopback server sends the feed, compressed as the
//     client's offer allows (with its context kept between messages unless
//     the offer asks it not to), at flate.BestSpeed; the client reads it.
//     wire-B/msg is the bytes of frames the server sent per message.
//   - dir=send: the client sends the feed to a loopback server that counts
//     the bytes it receives (wire-B/msg) and inflates nothing.
//
// ns/op is wall time per message; cpu-ns/msg is the process's CPU time
// (user and system, the loopback server's included, which does the same
// work for every client) per message; raw-B/msg the JSON per message.
func BenchmarkCompression(b *testing.B) {
	for _, dir := range []string{"receive", "send"} {
		for _, fd := range compressionFeeds {
			for _, c := range compressionClients {
				b.Run(fmt.Sprintf("dir=%s/feed=%s/impl=%s", dir, fd.name, c.name), func(b *testing.B) {
					if dir == "receive" {
						benchCompressedReceive(b, c, fd.msgs)
					} else {
						benchCompressedSend(b, c, fd.msgs)
					}
				})
			}
		}
	}
}

// compressionFeeds are the feeds: a cycle of 256 messages each.
var compressionFeeds = []struct {
	name string
	msgs [][]byte
}{
	{"msg", feedCycle(func(i int) []byte { return feedtest.Message(i) })},
	{"batch10", feedCycle(func(i int) []byte { return feedtest.Batch(10*i, 10) })},
}

func feedCycle(f func(int) []byte) [][]byte {
	msgs := make([][]byte, 256)
	for i := range msgs {
		msgs[i] = f(i)
	}
	return msgs
}

// compressionClient is one client in BenchmarkCompression.
type compressionClient struct {
	name string
	open func(ctx context.Context, url string) (feedConn, error)
}

// feedConn is one open connection of a compressionClient.
type feedConn interface {
	// receive reads n text messages and returns their total size.
	receive(n int) (int, error)
	// send writes msgs[i%len(msgs)] for i < n, then an uncompressed
	// binary message "END" and returns.
	send(n int, msgs [][]byte) error
	// close drops the connection and returns when everything it started
	// has ended.
	close()
}

var compressionClients = []compressionClient{
	{"tether", openTetherFeed()},
	{"tether-deflate", openTetherFeed(tws.WithCompression(tws.Compression{}))},
	{"tether-deflate-nct", openTetherFeed(tws.WithCompression(tws.Compression{ServerNoContextTakeover: true}))},
	// Client context takeover, every message compressed, at the level that
	// uses it on small messages (flate.BestSpeed encodes a block under 128
	// bytes as literals).
	{"tether-deflate-takeover", openTetherFeed(tws.WithCompression(tws.Compression{
		ClientContextTakeover: true, Threshold: -1, Level: flate.DefaultCompression}))},
	{"gorilla-deflate", openGorillaFeed},
	{"coder-deflate-nct", openCoderFeed(coder.CompressionNoContextTakeover)},
	{"coder-deflate", openCoderFeed(coder.CompressionContextTakeover)},
}

// tether: the transport directly (the Client adds the same work per
// message with compression or without).

type tetherFeed struct{ c transport.Conn }

func openTetherFeed(opts ...tws.Option) func(ctx context.Context, url string) (feedConn, error) {
	return func(ctx context.Context, url string) (feedConn, error) {
		tr, err := tws.New(opts...)
		if err != nil {
			return nil, err
		}
		c, err := tr.Dial(ctx, transport.Target{URL: url})
		if err != nil {
			return nil, err
		}
		return &tetherFeed{c: c}, nil
	}
}

func (t *tetherFeed) receive(n int) (int, error) {
	total := 0
	for i := 0; i < n; {
		m, err := t.c.Read()
		if err != nil {
			return total, err
		}
		if m.Type == transport.Text {
			total += len(m.Payload)
			i++
		}
	}
	return total, nil
}

func (t *tetherFeed) send(n int, msgs [][]byte) error {
	ctx := context.Background()
	for i := range n {
		if err := t.c.Write(ctx, transport.Text, msgs[i%len(msgs)]); err != nil {
			return err
		}
	}
	return tws.WriteUncompressed(ctx, t.c, transport.Binary, endMark)
}

func (t *tetherFeed) close() { _ = t.c.Close(transport.StatusAbnormalClosure, "") }

// gorilla: EnableCompression (gorilla supports no context takeover only),
// its default level, flate.BestSpeed.

type gorillaFeed struct{ c *gorilla.Conn }

func openGorillaFeed(ctx context.Context, url string) (feedConn, error) {
	d := &gorilla.Dialer{EnableCompression: true}
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	return &gorillaFeed{c: c}, nil
}

func (g *gorillaFeed) receive(n int) (int, error) {
	return drain(n, func() (io.Reader, error) {
		_, r, err := g.c.NextReader()
		return r, err
	})
}

// drain reads n messages, each from the reader next returns, to the end,
// and returns their total size.
func drain(n int, next func() (io.Reader, error)) (int, error) {
	total := 0
	for i := 0; i < n; i++ {
		r, err := next()
		if err != nil {
			return total, err
		}
		k, err := io.Copy(io.Discard, r)
		if err != nil {
			return total, err
		}
		total += int(k)
	}
	return total, nil
}

func (g *gorillaFeed) send(n int, msgs [][]byte) error {
	for i := range n {
		if err := g.c.WriteMessage(gorilla.TextMessage, msgs[i%len(msgs)]); err != nil {
			return err
		}
	}
	g.c.EnableWriteCompression(false)
	return g.c.WriteMessage(gorilla.BinaryMessage, endMark)
}

func (g *gorillaFeed) close() { _ = g.c.Close() }

// coder: CompressionNoContextTakeover or CompressionContextTakeover, with
// coder's default thresholds (512 and 128 bytes).

type coderFeed struct{ c *coder.Conn }

func openCoderFeed(mode coder.CompressionMode) func(ctx context.Context, url string) (feedConn, error) {
	return func(ctx context.Context, url string) (feedConn, error) {
		c, _, err := coder.Dial(ctx, url, &coder.DialOptions{HTTPClient: coderHTTP, CompressionMode: mode})
		if err != nil {
			return nil, err
		}
		c.SetReadLimit(16 << 20)
		return &coderFeed{c: c}, nil
	}
}

func (c *coderFeed) receive(n int) (int, error) {
	return drain(n, func() (io.Reader, error) {
		_, r, err := c.c.Reader(context.Background())
		return r, err
	})
}

func (c *coderFeed) send(n int, msgs [][]byte) error {
	ctx := context.Background()
	for i := range n {
		if err := c.c.Write(ctx, coder.MessageText, msgs[i%len(msgs)]); err != nil {
			return err
		}
	}
	return c.c.Write(ctx, coder.MessageBinary, endMark) // under coder's threshold: not compressed
}

func (c *coderFeed) close() { _ = c.c.CloseNow() }

// endMark is the uncompressed binary message that ends a send run.
var endMark = []byte("END")

func benchCompressedReceive(b *testing.B, fc compressionClient, msgs [][]byte) {
	var wire atomic.Int64
	srv := startDeflateServer(b, func(c net.Conn, p *wsflate.Parameters) {
		blob := compressedCycle(msgs, p)
		wire.Store(int64(len(blob)))
		for {
			if _, err := c.Write(blob); err != nil {
				return
			}
		}
	})
	var total int
	cpu := runFeed(b, fc, srv.url, func(_ context.Context, c feedConn) (err error) {
		total, err = c.receive(b.N)
		return err
	})
	raw := 0
	for _, m := range msgs {
		raw += len(m)
	}
	if want := raw * (b.N / len(msgs)); total < want {
		b.Fatalf("read %d bytes of JSON, want at least %d", total, want)
	}
	b.ReportMetric(float64(wire.Load())/float64(len(msgs)), "wire-B/msg")
	b.ReportMetric(float64(raw)/float64(len(msgs)), "raw-B/msg")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
}

func benchCompressedSend(b *testing.B, fc compressionClient, msgs [][]byte) {
	type count struct{ wire, msgs int64 }
	counted := make(chan count, 1)
	srv := startDeflateServer(b, func(c net.Conn, _ *wsflate.Parameters) {
		wire, n, err := countFrames(c)
		if err == nil {
			counted <- count{wire, n}
		}
	})
	var got count
	cpu := runFeed(b, fc, srv.url, func(ctx context.Context, c feedConn) error {
		if err := c.send(b.N, msgs); err != nil {
			return err
		}
		select {
		case got = <-counted:
			return nil
		case <-ctx.Done():
			return errors.New("the server did not receive the end of the run")
		}
	})
	if got.msgs != int64(b.N) {
		b.Fatalf("the server received %d messages, want %d", got.msgs, b.N)
	}
	raw := 0
	for i := range b.N {
		raw += len(msgs[i%len(msgs)])
	}
	b.ReportMetric(float64(got.wire)/float64(b.N), "wire-B/msg")
	b.ReportMetric(float64(raw)/float64(b.N), "raw-B/msg")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
}

// runFeed opens a connection of fc to url, times run on it and returns the
// CPU time the process used meanwhile. ctx bounds the whole.
func runFeed(b *testing.B, fc compressionClient, url string, run func(ctx context.Context, c feedConn) error) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := fc.open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer c.close()
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	err = run(ctx, c)
	b.StopTimer()
	cpu := cpuTime() - cpu0
	if err != nil {
		b.Fatal(err)
	}
	return cpu
}

// countFrames reads the client's frames up to the uncompressed binary
// message endMark and returns the bytes of the data frames before it
// (headers included) and the number of data messages.
func countFrames(c net.Conn) (wire, msgs int64, err error) {
	br := bufio.NewReaderSize(c, 64<<10)
	var hb bytes.Buffer
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return wire, msgs, err
		}
		hb.Reset()
		_ = ws.WriteHeader(&hb, h)
		if h.OpCode == ws.OpBinary && h.Rsv == 0 && h.Length == int64(len(endMark)) {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(br, p); err != nil {
				return wire, msgs, err
			}
			ws.Cipher(p, h.Mask, 0)
			if bytes.Equal(p, endMark) {
				return wire, msgs, nil
			}
		} else if _, err := br.Discard(int(h.Length)); err != nil {
			return wire, msgs, err
		}
		if h.OpCode.IsData() || h.OpCode == ws.OpContinuation {
			wire += int64(hb.Len()) + h.Length
			if h.Fin {
				msgs++
			}
		}
	}
}

// compressedCycle returns msgs as server frames, compressed when p is not
// nil (each on its own when the client asked for
// server_no_context_takeover, else with one context for the cycle: played
// again and again, the cycle stays valid, since its first message refers
// to nothing before it).
func compressedCycle(msgs [][]byte, p *wsflate.Parameters) []byte {
	var out, z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.DefaultCompression)
	for _, m := range msgs {
		f := ws.NewTextFrame(m)
		if p != nil {
			if p.ServerNoContextTakeover {
				fw.Reset(&z)
			}
			z.Reset()
			_, _ = fw.Write(m)
			_ = fw.Flush()
			f = ws.NewTextFrame(bytes.Clone(z.Bytes()[:z.Len()-4]))
			f.Header.Rsv = ws.Rsv(true, false, false)
		}
		_ = ws.WriteFrame(&out, f)
	}
	return out.Bytes()
}

// startDeflateServer is a loopback server that accepts permessage-deflate
// as the client offers it (see upgradeDeflate) and hands each upgraded
// connection to handle, with the parameters (nil when the client offered
// none).
func startDeflateServer(tb testing.TB, handle func(net.Conn, *wsflate.Parameters)) *server {
	return startServerWith(tb, func(c net.Conn) {
		p, err := upgradeDeflate(c)
		if err != nil {
			return
		}
		handle(c, p)
	})
}

// upgradeDeflate upgrades c, accepting permessage-deflate as the client
// offers it: every parameter echoed, client_max_window_bits without a
// value dropped. The parameters are nil when the client offered none.
func upgradeDeflate(c net.Conn) (*wsflate.Parameters, error) {
	var p *wsflate.Parameters
	u := ws.Upgrader{Negotiate: func(opt httphead.Option) (httphead.Option, error) {
		if p != nil || !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
			return httphead.Option{}, nil
		}
		var got wsflate.Parameters
		if err := got.Parse(opt); err != nil {
			return httphead.Option{}, nil // declined
		}
		if got.ClientMaxWindowBits == 1 {
			got.ClientMaxWindowBits = 0
		}
		p = &got
		return got.Option(), nil
	}}
	_, err := u.Upgrade(c)
	return p, err
}
