package websocket

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// TestAbnormalEndCountsWhatWasOnItsWay: a connection that ends abnormally
// (an abort, a write that failed) while no Read is in progress counts the
// data messages the peer had already sent, which the socket still held,
// instead of dropping them with the socket unseen: a reader that was busy
// elsewhere (a stalled consumer, a hold) learns of them as Discarded. A
// Read after the end still returns the error, as before.
func TestAbnormalEndCountsWhatWasOnItsWay(t *testing.T) {
	for _, how := range []string{"hangs up", "resets"} {
		t.Run(how, func(t *testing.T) {
			c, p, _ := connectPair(t)
			const n = 300
			for i := range n {
				require.NoError(t, p.write(ws.OpBinary, true, []byte("message "+strconv.Itoa(i))))
			}
			if how == "resets" {
				require.NoError(t, p.conn.(*net.TCPConn).SetLinger(0))
			}
			require.NoError(t, p.conn.Close())

			require.NoError(t, c.Close(transport.StatusAbnormalClosure, "")) // the abort a failed heartbeat makes
			d := transport.DiscardsOf(c)
			require.NotNil(t, d)
			if how == "hangs up" {
				assert.EqualValues(t, n, d.Discarded(), "every message the peer sent before it hung up")
			} else {
				// A reset throws away what the peer's kernel had not
				// sent yet (here most of 300 did not get through):
				// what reached this side is counted, never more than
				// was sent.
				assert.Positive(t, d.Discarded())
				assert.LessOrEqual(t, d.Discarded(), uint64(n))
			}
			_, err := c.Read()
			var ce *transport.CloseError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, transport.StatusAbnormalClosure, ce.Code)
		})
	}
}

// TestNoSalvageAfterTheReaderFailed: a connection the reader failed (1009
// here) stops inside the offending frame. An abnormal end (a heartbeat
// abort, Close(1006)) while the failure's close frame still waits to be
// written must not read the rest of that payload as frames and count them
// in Discarded (found by a code review: 50 counted).
func TestNoSalvageAfterTheReaderFailed(t *testing.T) {
	c, g, p := connectGated(t, WithMaxMessageSize(1024))
	// The payload of a too-large message happens to look like 50 frames.
	var payload []byte
	for range 50 {
		payload = append(payload, frameBytes(t, ws.NewBinaryFrame([]byte("x")))...)
	}
	payload = append(payload, make([]byte, 2048-len(payload))...)
	g.hold() // the peer does not read: the fail goroutine's close frame waits
	require.NoError(t, p.write(ws.OpBinary, true, payload))
	_, err := c.Read()
	var ce *transport.CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, transport.StatusMessageTooBig, ce.Code)
	g.awaitEntered(t) // fail's close frame is at the gate

	require.NoError(t, c.Close(transport.StatusAbnormalClosure, "")) // e.g. the heartbeat abort
	assert.Zero(t, c.Discarded(), "bytes of a refused frame counted as messages")
}

// TestAbnormalEndCountsWhatWasOnItsWayOverTLS: the salvage reads through
// TLS as through plain TCP.
func TestAbnormalEndCountsWhatWasOnItsWayOverTLS(t *testing.T) {
	const n = 300
	sent := make(chan struct{})
	url, cert := newTLSServerWith(t, func(conn net.Conn) {
		defer close(sent) // then close_notify and a FIN after the burst
		for i := range n {
			if ws.WriteFrame(conn, ws.NewBinaryFrame([]byte("message "+strconv.Itoa(i)))) != nil {
				return
			}
		}
	})
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	c := dial(t, newTransport(t, WithTLSConfig(&tls.Config{RootCAs: roots})), transport.Target{URL: url})
	select {
	case <-sent:
	case <-time.After(wait):
		require.FailNow(t, "the server did not send its burst")
	}

	require.NoError(t, c.Close(transport.StatusAbnormalClosure, ""))
	d := transport.DiscardsOf(c)
	require.NotNil(t, d)
	assert.EqualValues(t, n, d.Discarded())
}

// oneByteReads reads at most one byte a call: a socket that makes the
// salvage take many reads, as a busy machine makes each read slow.
type oneByteReads struct{ net.Conn }

func (c oneByteReads) Read(p []byte) (int, error) { return c.Conn.Read(p[:min(len(p), 1)]) }

// TestSalvageThatTakesLongCountsEverything: the salvage of an abnormal end
// gave all its reads one deadline of 10 ms; when they took longer (a busy
// machine, here reads of one byte), it stopped with messages still in the
// socket, uncounted. Each read now has its own deadline.
func TestSalvageThatTakesLongCountsEverything(t *testing.T) {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return oneByteReads{nc}, nil
	}
	c, p, _ := connectPair(t, WithNetDial(dial))
	const n = 400 // about 5,000 reads
	for i := range n {
		require.NoError(t, p.write(ws.OpBinary, true, []byte("message "+strconv.Itoa(i))))
	}
	require.NoError(t, p.conn.Close()) // a FIN after the messages

	require.NoError(t, c.Close(transport.StatusAbnormalClosure, "")) // the abort a failed heartbeat makes
	d := transport.DiscardsOf(c)
	require.NotNil(t, d)
	assert.EqualValues(t, n, d.Discarded(), "every message the peer sent before it hung up")
}
