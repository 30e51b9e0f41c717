package websocket

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// answerClose reads up to the client's close frame, records it, echoes it
// and closes the TCP connection.
func answerClose(p *peer, got chan<- transport.CloseError) {
	code, reason, ok := p.readClose()
	if !ok {
		close(got)
		return
	}
	got <- transport.CloseError{Code: code, Reason: reason}
	_ = p.writeClose(code, "")
	p.conn.Close()
}

func TestClientCloseWithPendingRead(t *testing.T) {
	c, p, _ := connectPair(t)
	reads := readLoop(c)
	got := make(chan transport.CloseError, 1)
	go answerClose(p, got)

	require.NoError(t, c.Close(4000, "bye"))
	seen := <-got
	assert.Equal(t, transport.StatusCode(4000), seen.Code)
	assert.Equal(t, "bye", seen.Reason)

	r := next(t, reads)
	ce := closeErr(t, r.err)
	assert.Equal(t, transport.StatusCode(4000), ce.Code)
	assert.Equal(t, "bye", ce.Reason)
	assert.False(t, ce.Remote)
	waitDone(t, c)
	assert.Equal(t, r.err, c.Err())
	// Read after the end returns the same error.
	_, err := c.Read()
	assert.Equal(t, c.Err(), err)
	// Later calls do nothing.
	assert.NoError(t, c.Close(1000, ""))
	assert.ErrorIs(t, c.Write(context.Background(), transport.Text, []byte("x")), transport.ErrClosed)
	assert.ErrorIs(t, c.Ping(context.Background(), nil), transport.ErrClosed)
}

func TestClientCloseWithoutReader(t *testing.T) {
	c, p, _ := connectPair(t)
	// Close reads past a message nobody read, and keeps it for Read.
	require.NoError(t, p.write(ws.OpText, true, []byte("unread")))
	got := make(chan transport.CloseError, 1)
	go answerClose(p, got)

	require.NoError(t, c.Close(transport.StatusGoingAway, ""))
	assert.Equal(t, transport.StatusGoingAway, (<-got).Code)
	select {
	case <-c.Done():
	default:
		require.Fail(t, "Done must be closed when Close returns")
	}
	ce := closeErr(t, c.Err())
	assert.Equal(t, transport.StatusGoingAway, ce.Code)
	assert.False(t, ce.Remote)
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "unread", string(m.Payload))
	_, err = c.Read()
	assert.Equal(t, c.Err(), err)
}

func TestCloseWithUnsendableCodeAborts(t *testing.T) {
	for _, code := range []transport.StatusCode{0, transport.StatusNoStatusReceived, transport.StatusAbnormalClosure, 2000} {
		t.Run(code.String(), func(t *testing.T) {
			c, p, _ := connectPair(t)
			reads := readLoop(c)
			// No close frame, no wait: the server reads EOF straight away.
			require.NoError(t, c.Close(code, "gone"))
			select {
			case <-c.Done():
			default:
				require.Fail(t, "an abort ends the connection before Close returns")
			}
			f, err := p.read()
			assert.ErrorIs(t, err, io.EOF, "no close frame expected, got %v", f.op)
			ce := closeErr(t, c.Err())
			assert.Equal(t, code, ce.Code)
			assert.False(t, ce.Remote)
			assert.Equal(t, c.Err(), next(t, reads).err)
		})
	}
}

func TestAbortDuringCloseHandshakeIsIgnored(t *testing.T) {
	c, p, _ := connectPair(t, WithCloseTimeout(200*time.Millisecond))
	got := make(chan transport.StatusCode, 1)
	go func() {
		code, _, _ := p.readClose()
		got <- code
		_, _ = io.Copy(io.Discard, p.br)
	}()
	first := make(chan error, 1)
	go func() { first <- c.Close(1000, "") }()
	assert.Equal(t, transport.StatusNormalClosure, <-got)
	// The first Close owns the connection; a later abort does nothing.
	assert.NoError(t, c.Close(transport.StatusAbnormalClosure, ""))
	assert.ErrorIs(t, <-first, transport.ErrTimeout)
}

func TestCloseReasonIsCutToFit(t *testing.T) {
	c, p, _ := connectPair(t)
	got := make(chan transport.CloseError, 1)
	go answerClose(p, got)
	long := ""
	for len(long) < 200 {
		long += "é"
	}
	require.NoError(t, c.Close(4001, long))
	seen := <-got
	assert.LessOrEqual(t, len(seen.Reason), transport.MaxCloseReason)
	assert.Equal(t, long[:len(seen.Reason)], seen.Reason)
}

func TestCloseTimesOutWhenPeerNeverAnswers(t *testing.T) {
	c, p, _ := connectPair(t, WithCloseTimeout(200*time.Millisecond))
	got := make(chan transport.CloseError, 1)
	go func() {
		code, _, _ := p.readClose()
		got <- transport.CloseError{Code: code}
		// and never answer; the read below ends when the client drops.
		_, _ = io.Copy(io.Discard, p.br)
	}()
	err := c.Close(1000, "")
	require.ErrorIs(t, err, transport.ErrTimeout)
	var te *transport.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "close", te.Phase)
	assert.Equal(t, transport.StatusNormalClosure, (<-got).Code)
	waitDone(t, c)
	ce := closeErr(t, c.Err())
	assert.Equal(t, transport.StatusNormalClosure, ce.Code)
	assert.ErrorIs(t, ce, transport.ErrTimeout)
}

func TestCloseTimesOutWithPendingRead(t *testing.T) {
	c, p, _ := connectPair(t, WithCloseTimeout(200*time.Millisecond))
	reads := readLoop(c)
	go func() {
		_, _, _ = p.readClose()
		_, _ = io.Copy(io.Discard, p.br)
	}()
	require.ErrorIs(t, c.Close(1000, ""), transport.ErrTimeout)
	r := next(t, reads)
	assert.ErrorIs(t, r.err, transport.ErrTimeout)
	assert.Equal(t, c.Err(), r.err)
}

func TestConcurrentCloseIsIdempotent(t *testing.T) {
	c, p, _ := connectPair(t)
	reads := readLoop(c)
	closes := make(chan int, 1)
	go func() {
		// Count every close frame until the client drops the connection.
		n := 0
		for {
			f, err := p.read()
			if err != nil {
				closes <- n
				return
			}
			if f.op == ws.OpClose {
				n++
				_ = p.write(ws.OpClose, true, f.payload)
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.Close(transport.StatusCode(4000+i), "")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	waitDone(t, c)
	assert.Equal(t, 1, <-closes, "exactly one close frame")
	assert.Error(t, next(t, reads).err)
}

func TestServerClose(t *testing.T) {
	c, p, _ := connectPair(t)
	require.NoError(t, p.writeClose(4001, "going"))

	_, err := c.Read()
	ce := closeErr(t, err)
	assert.True(t, ce.Remote)
	assert.Equal(t, transport.StatusCode(4001), ce.Code)
	assert.Equal(t, "going", ce.Reason)
	code, ok := transport.CloseCode(err)
	assert.True(t, ok)
	assert.Equal(t, transport.StatusCode(4001), code)

	echoed, _, ok := p.readClose()
	require.True(t, ok)
	assert.Equal(t, transport.StatusCode(4001), echoed)
	waitDone(t, c)
	assert.Equal(t, err, c.Err())
	// Close after the end returns nil without waiting.
	assert.NoError(t, c.Close(1000, ""))
}

func TestServerCloseWithoutCode(t *testing.T) {
	c, p, _ := connectPair(t)
	require.NoError(t, p.write(ws.OpClose, true, nil))
	_, err := c.Read()
	ce := closeErr(t, err)
	assert.True(t, ce.Remote)
	assert.Equal(t, transport.StatusNoStatusReceived, ce.Code)
	echoed, _, ok := p.readClose()
	require.True(t, ok)
	assert.Equal(t, transport.StatusNoStatusReceived, echoed, "echo carries no code either")
}

func TestServerDropIsAbnormalClosure(t *testing.T) {
	c, p, _ := connectPair(t)
	p.conn.Close()
	_, err := c.Read()
	ce := closeErr(t, err)
	assert.Equal(t, transport.StatusAbnormalClosure, ce.Code)
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "cause: %v", err)
	waitDone(t, c)
	assert.ErrorIs(t, c.Write(context.Background(), transport.Text, []byte("x")), transport.ErrClosed)
}

func TestReadTimeout(t *testing.T) {
	c, p, _ := connectPair(t, WithReadTimeout(100*time.Millisecond))
	_, err := c.Read()
	require.ErrorIs(t, err, transport.ErrTimeout)
	assert.Equal(t, transport.StatusAbnormalClosure, closeErr(t, err).Code)
	p.conn.Close()
}

// TestCloseOverADroppedConnectionIsNoHandshake: a peer that drops the TCP
// connection instead of answering our close frame did not complete a
// handshake, with or without a reader, and with a pong's payload still in
// the reader's hands. The connection used to end with the close frame we
// sent, exactly as if answered, so the caller took everything written
// before it as read by the peer.
func TestCloseOverADroppedConnectionIsNoHandshake(t *testing.T) {
	for _, reader := range []bool{false, true} {
		t.Run(map[bool]string{false: "no reader", true: "pending read"}[reader], func(t *testing.T) {
			c, p, _ := connectPair(t)
			var reads <-chan result
			if reader {
				reads = readLoop(c)
			} else {
				// The last message Read returned is a pong whose payload the
				// caller still holds while Close reads.
				require.NoError(t, p.write(ws.OpPong, true, []byte("held")))
				m, err := c.Read()
				require.NoError(t, err)
				defer func() { assert.Equal(t, "held", string(m.Payload)) }()
			}
			go func() {
				_, _, _ = p.readClose()
				p.conn.Close() // no answer
			}()
			err := c.Close(transport.StatusNormalClosure, "")
			require.Error(t, err, "no handshake took place")
			ce := closeErr(t, c.Err())
			assert.Equal(t, transport.StatusAbnormalClosure, ce.Code)
			assert.Error(t, ce.Err, "the read error that ended it")
			assert.NotErrorIs(t, err, transport.ErrTimeout)
			if reader {
				r := next(t, reads)
				assert.Equal(t, c.Err(), r.err)
			}
		})
	}
}
