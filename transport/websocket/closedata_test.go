package websocket

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// Tests of the data messages a peer sends between our close frame and its
// answer: they used to be read and thrown away, unreported.

// generousClose is the close timeout of the tests that wait for a peer
// sending megabytes before its answer: they test what is delivered, not
// how fast, and under -race on a busy 2-core machine the default 5 s ran
// out (449 of 500 messages read, the rest thrown away at the limit, twice
// in 200 runs).
const generousClose = time.Minute

// lateMessage is message i the peer sends after our close frame: its
// number, then filler to a size that cycles through the length encodings.
func lateMessage(i int) []byte {
	size := []int{10, 300, 5000, 70000, 40}[i%5]
	head := fmt.Sprintf("late-%d|", i)
	return append([]byte(head), bytes.Repeat([]byte{'x'}, max(size-len(head), 0))...)
}

// answerAfter reads up to the client's close frame, then writes what
// before writes, then the answer (the client's code), and drains the
// input until the client hangs up. Its write errors end it quietly: a
// client that gave up closed the socket.
func answerAfter(p *peer, before func(p *peer) error) {
	code, _, ok := p.readClose()
	if !ok {
		return
	}
	if before(p) != nil {
		return
	}
	if p.writeClose(code, "") != nil {
		return
	}
	_, _ = io.Copy(io.Discard, p.br)
}

// sendLate writes messages 0 to n-1: every seventh in three fragments,
// with a ping between the first two, the others whole.
func sendLate(n int) func(p *peer) error {
	return func(p *peer) error {
		for i := range n {
			m := lateMessage(i)
			if i%7 != 3 {
				if err := p.write(ws.OpText, true, m); err != nil {
					return err
				}
				continue
			}
			third := len(m) / 3
			for _, f := range []ws.Frame{
				ws.NewFrame(ws.OpText, false, m[:third]),
				ws.NewPingFrame([]byte("between")),
				ws.NewFrame(ws.OpContinuation, false, m[third:2*third]),
				ws.NewFrame(ws.OpContinuation, true, m[2*third:]),
			} {
				if err := ws.WriteFrame(p.conn, f); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// readLate reads until the end, and returns the data messages read (the
// numbers of late messages, -1 for anything else) and the end.
func readLate(t *testing.T, reads <-chan result) (got []int, end error) {
	t.Helper()
	for {
		r := next(t, reads)
		if r.err != nil {
			return got, r.err
		}
		if !r.m.Type.IsData() {
			continue
		}
		var i int
		if _, err := fmt.Sscanf(string(r.m.Payload), "late-%d|", &i); err != nil || !bytes.Equal(r.m.Payload, lateMessage(i)) {
			i = -1
		}
		got = append(got, i)
	}
}

// requireFirst fails the test unless got is 0, 1, ..., len(got)-1.
func requireFirst(t *testing.T, got []int, what string) {
	t.Helper()
	for i, v := range got {
		require.Equal(t, i, v, "%s: message %d of %d", what, i, len(got))
	}
}

// TestCloseDeliversWhatThePeerSendsBeforeItsAnswer: a reader that keeps
// reading gets every data message the peer sends between our close frame
// and its answer, in order, then the local close; Close returns nil and
// throws nothing away. The reader here is often away (its results channel
// fills), so Close reads ahead for it too.
func TestCloseDeliversWhatThePeerSendsBeforeItsAnswer(t *testing.T) {
	const n = 500
	c, p, _ := connectPair(t, WithCloseTimeout(generousClose))
	reads := readLoop(c)
	go answerAfter(p, sendLate(n))
	closed := make(chan error, 1)
	go func() { closed <- c.Close(4000, "bye") }()

	got, end := readLate(t, reads)
	requireFirst(t, got, "messages sent before the answer")
	require.Len(t, got, n)
	ce := closeErr(t, end)
	assert.Equal(t, transport.StatusCode(4000), ce.Code)
	assert.False(t, ce.Remote)
	assert.NoError(t, ce.Err)
	require.NoError(t, <-closed)
	assert.Equal(t, c.Err(), end)
	assert.Zero(t, transport.DiscardsOf(c).Discarded())
}

// TestCloseDeliversCompressedMessages: the same with permessage-deflate and
// the server's context taken over: Close inflates what it reads ahead, and
// the window stays in step for the reader.
func TestCloseDeliversCompressedMessages(t *testing.T) {
	const n = 200
	c, p := compressedPair(t, Compression{}, wsflate.Parameters{}, WithCloseTimeout(generousClose))
	reads := readLoop(c)
	go answerAfter(p, func(p *peer) error {
		d := &deflater{takeover: true}
		for i := range n {
			if err := p.writeCompressed(ws.OpText, d.compress(t, lateMessage(i)), 1+i%3, i%2 == 0); err != nil {
				return err
			}
		}
		return nil
	})
	closed := make(chan error, 1)
	go func() { closed <- c.Close(transport.StatusNormalClosure, "") }()

	got, end := readLate(t, reads)
	requireFirst(t, got, "compressed messages sent before the answer")
	require.Len(t, got, n)
	closeErr(t, end)
	require.NoError(t, <-closed)
	assert.Zero(t, transport.DiscardsOf(c).Discarded())
}

// TestCloseKeepsMessagesForLaterReads: with no Read in progress, Close
// reads the peer's answer itself and keeps the messages before it; the
// Reads after Close return them, then the end.
func TestCloseKeepsMessagesForLaterReads(t *testing.T) {
	const n = 20
	c, p, _ := connectPair(t, WithCloseTimeout(generousClose))
	go answerAfter(p, sendLate(n))
	require.NoError(t, c.Close(transport.StatusGoingAway, ""))
	waitDone(t, c)
	ce := closeErr(t, c.Err())
	assert.Equal(t, transport.StatusGoingAway, ce.Code)
	assert.False(t, ce.Remote)

	got, end := readLate(t, readLoop(c))
	requireFirst(t, got, "messages kept by Close")
	assert.Len(t, got, n)
	assert.Equal(t, c.Err(), end)
	assert.Zero(t, transport.DiscardsOf(c).Discarded())
}

// TestCloseCountsWhatNobodyReads: on a connection whose Read was never
// called, Close keeps up to closeHoldLimit of what the peer sends before
// its answer, throws the rest away and counts it.
func TestCloseCountsWhatNobodyReads(t *testing.T) {
	const n = 40 // of 64 KiB: 2.5 MiB
	big := func(i int) []byte {
		m := bytes.Repeat([]byte{'y'}, 64<<10)
		copy(m, fmt.Sprintf("late-%d|", i))
		return m
	}
	c, p, _ := connectPair(t, WithCloseTimeout(generousClose))
	go answerAfter(p, func(p *peer) error {
		for i := range n {
			if err := p.write(ws.OpBinary, true, big(i)); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""), "the handshake completes")

	kept := readKept(t, c, big)
	discarded := transport.DiscardsOf(c).Discarded()
	assert.Equal(t, uint64(n), uint64(kept)+discarded, "every message kept or counted")
	assert.Positive(t, kept, "Close keeps some")
	assert.Positive(t, discarded, "and throws the rest away")
	assert.LessOrEqual(t, kept*(64<<10), closeHoldLimit+64<<10, "no more than the limit (and one message)")
}

// lateAfterStop is how many messages of 64 KiB the peer of
// readerThatStopped sends before its answer: far past what Close keeps.
const lateAfterStop = 40

// readerThatStopped returns a connection whose reader has read one
// message (returned) and then stopped, and whose peer answers a close
// frame only after lateAfterStop messages of 64 KiB (message i filled with
// byte i).
func readerThatStopped(t *testing.T, closeTimeout time.Duration) (*conn, transport.Message) {
	t.Helper()
	tc, p, _ := connectPair(t, WithCloseTimeout(closeTimeout))
	c := tc.(*conn)
	require.NoError(t, p.write(ws.OpText, true, []byte("first")))
	m, err := c.Read()
	require.NoError(t, err)
	require.Equal(t, "first", string(m.Payload))
	go answerAfter(p, func(p *peer) error {
		for i := range lateAfterStop {
			if err := p.write(ws.OpBinary, true, bytes.Repeat([]byte{byte(i)}, 64<<10)); err != nil {
				return err
			}
		}
		return nil
	})
	return c, m
}

// TestCloseWaitsForAReaderThatStopped: a reader that has read once and
// then stops is still a reader: past closeHoldLimit, Close waits for it
// instead of throwing messages away, until the close timeout. What it kept
// is still there for the Reads after it.
func TestCloseWaitsForAReaderThatStopped(t *testing.T) {
	c, m := readerThatStopped(t, 300*time.Millisecond)
	err := c.Close(transport.StatusNormalClosure, "")
	require.ErrorIs(t, err, transport.ErrTimeout, "Close waited for the reader")
	assert.Equal(t, "first", string(m.Payload), "Close read ahead into the payload the reader holds")
	reads := readLoop(c)
	kept := 0
	for {
		r := next(t, reads)
		if r.err != nil {
			require.ErrorIs(t, r.err, transport.ErrTimeout)
			break
		}
		require.Equal(t, bytes.Repeat([]byte{byte(kept)}, 64<<10), r.m.Payload, "kept message %d", kept)
		kept++
	}
	assert.Positive(t, kept)
	assert.Zero(t, transport.DiscardsOf(c).Discarded(), "nothing thrown away while there is a reader")
}

// TestCloseAfterReleaseReaderKeepsNothing: once ReleaseReader says nothing
// read is wanted, a reader that has read once and then stopped (as the
// tether client's reader does while its own callback calls Close) no
// longer holds Close until the close timeout: the handshake completes, and
// every message the peer sent before its answer is thrown away and counted.
func TestCloseAfterReleaseReaderKeepsNothing(t *testing.T) {
	c, _ := readerThatStopped(t, wait)
	transport.ReleaserOf(c).ReleaseReader()
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""), "the handshake completes, no timeout")
	_, err := c.Read()
	var ce *transport.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, transport.StatusNormalClosure, ce.Code)
	assert.NoError(t, ce.Err)
	assert.Equal(t, uint64(lateAfterStop), transport.DiscardsOf(c).Discarded(), "every message thrown away is counted")
}

// readKept reads what Close kept, in order, until the Conn's end, checks
// that message i is want(i), and returns how many there were.
func readKept(t *testing.T, c transport.Conn, want func(int) []byte) int {
	t.Helper()
	reads := readLoop(c)
	kept := 0
	for {
		r := next(t, reads)
		if r.err != nil {
			assert.Equal(t, c.Err(), r.err)
			return kept
		}
		require.Equal(t, want(kept), r.m.Payload, "kept message %d", kept)
		kept++
	}
}
