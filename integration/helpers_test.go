package integration

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// deadline bounds every real-time wait: generous, since nothing is asserted
// about elapsed time, only about what happens.
const deadline = 30 * time.Second

var connSeq atomic.Uint64

// newID returns a connection id, unique in the test binary, that the peer
// repeats in the events of that connection.
func newID(t testing.TB) string {
	return fmt.Sprintf("%s#%d", t.Name(), connSeq.Add(1))
}

// peerURL is p's URL for path with the query id=id plus the pairs kv.
func peerURL(p *peer.Peer, path, id string, kv ...string) string {
	q := url.Values{"id": {id}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return p.URL(path + "?" + q.Encode())
}

// newTransport returns a WebSocket transport with generous dial and idle
// read timeouts, so that a peer that misbehaves fails the test instead of
// hanging it. opts come after and may override them.
func newTransport(t testing.TB, opts ...websocket.Option) *websocket.Transport {
	t.Helper()
	base := []websocket.Option{
		websocket.WithDialTimeout(deadline),
		websocket.WithReadTimeout(deadline),
	}
	tr, err := websocket.New(append(base, opts...)...)
	require.NoError(t, err)
	return tr
}

// dial connects tr to target and closes the connection when the test ends.
func dial(t testing.TB, tr transport.Transport, target transport.Target) transport.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	c, err := tr.Dial(ctx, target)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(transport.StatusGoingAway, "test over") })
	return c
}

// dialErr dials target, expecting an error.
func dialErr(t testing.TB, tr transport.Transport, target transport.Target) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	c, err := tr.Dial(ctx, target)
	if err == nil {
		_ = c.Close(transport.StatusNormalClosure, "")
	}
	require.Error(t, err)
	require.Nil(t, c)
	return err
}

// waitEvent waits for the first event of p matching match.
func waitEvent(t testing.TB, p *peer.Peer, match func(peer.Event) bool) peer.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	e, err := p.Wait(ctx, match)
	require.NoError(t, err, "waiting for a peer event; events so far: %+v", p.Events())
	return e
}

// write writes one message under the deadline.
func write(t testing.TB, c transport.Conn, typ transport.MessageType, payload []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Write(ctx, typ, payload))
}

// read reads the next message and returns it with a payload it owns.
func read(t testing.TB, c transport.Conn) transport.Message {
	t.Helper()
	m, err := transport.ReadOwned(c)
	require.NoError(t, err)
	return m
}

// requireMessage reads the next message and requires its type and payload.
func requireMessage(t testing.TB, c transport.Conn, typ transport.MessageType, payload []byte) {
	t.Helper()
	m := read(t, c)
	require.Equal(t, typ, m.Type)
	requireSameBytes(t, payload, m.Payload)
}

// requireSameBytes compares payloads without dumping megabytes on failure.
func requireSameBytes(t testing.TB, want, got []byte) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	require.Failf(t, "payloads differ", "want %d bytes, got %d; first difference at byte %d", len(want), len(got), i)
}

// pattern is the payload the peer sends on /fragmented and /big: byte i is
// '!' + i%94 (printable ASCII, so valid as text too).
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(0x21 + i%94)
	}
	return b
}

// randomBinary returns n pseudo-random bytes, the same for the same n.
func randomBinary(n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// randomText returns exactly n bytes of valid UTF-8 mixing 1- to 4-byte
// runes, the same for the same n.
func randomText(n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16), 't'}))
	runes := []string{"a", "Z", "7", " ", "é", "ß", "€", "中", "😀", "🜂"}
	b := make([]byte, 0, n)
	for len(b) < n {
		s := runes[r.IntN(len(runes))]
		if len(b)+len(s) > n {
			s = "x"
		}
		b = append(b, s...)
	}
	return b
}
