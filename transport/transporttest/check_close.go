package transporttest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// requireCloseError returns the *transport.CloseError in err, failing the
// check when there is none.
func (s *suite) requireCloseError(err error, what string) *transport.CloseError {
	s.t.Helper()
	ce, ok := errors.AsType[*transport.CloseError](err)
	require.True(s.t, ok, "%s: want a *transport.CloseError, got %v", what, err)
	return ce
}

// requireLocalClose fails the check unless err is this side's close with
// code and reason.
func (s *suite) requireLocalClose(err error, code transport.StatusCode, reason, what string) {
	s.t.Helper()
	ce := s.requireCloseError(err, what)
	require.Equal(s.t, code, ce.Code, "%s: code", what)
	require.Equal(s.t, reason, ce.Reason, "%s: reason", what)
	require.False(s.t, ce.Remote, "%s: Remote", what)
}

// requireSameEnd fails the check unless got reports the same close as
// want: after the end, Read returns what Err reports.
func (s *suite) requireSameEnd(want, got error, what string) {
	s.t.Helper()
	w := s.requireCloseError(want, "Err")
	g := s.requireCloseError(got, what)
	require.Equal(s.t, []any{w.Code, w.Reason, w.Remote}, []any{g.Code, g.Reason, g.Remote},
		"%s reports another end than Err (code, reason, Remote)", what)
}

// closeConn calls Close under the wait and returns its error.
func (s *suite) closeConn(c transport.Conn, code transport.StatusCode, reason string) error {
	s.t.Helper()
	var err error
	s.bounded("Close", func() { err = c.Close(code, reason) })
	return err
}

// checkPeerClose: the peer's close comes after the messages sent before
// it, as a *CloseError with Remote true (and the peer's code and reason
// with a close handshake); Done closes, Err and every later Read report
// the same end, and Write fails; after a Close, with ErrClosed.
func checkPeerClose(s *suite) {
	c, p := s.open()
	in := s.reader(c)
	ctx := s.ctx()
	require.NoError(s.t, p.Send(ctx, transport.Text, []byte("before the close")))
	p.Close(transport.StatusGoingAway, "peer going away")
	s.requireMessage(transport.Message{Type: transport.Text, Payload: []byte("before the close")},
		s.readData(in, "the message sent before the close"), "the message sent before the close")
	err := s.readEnd(in, "the peer's close")
	ce := s.requireCloseError(err, "Read after the peer's close")
	require.True(s.t, ce.Remote, "Remote of the peer's close")
	if s.h.Caps.CloseHandshake {
		require.Equal(s.t, transport.StatusGoingAway, ce.Code, "code of the peer's close")
		require.Equal(s.t, "peer going away", ce.Reason, "reason of the peer's close")
	}
	s.waitClosed(c.Done(), "Done after the peer's close")
	s.requireSameEnd(c.Err(), err, "the Read that saw the peer's close")
	again := s.readNow(c, "after the end")
	s.requireSameEnd(c.Err(), again, "Read after the end")
	require.Error(s.t, s.write(ctx, c, transport.Text, []byte("too late"), "after the peer's close"), "Write after the peer's close")
	_ = s.closeConn(c, transport.StatusNormalClosure, "")
	require.ErrorIs(s.t, s.write(ctx, c, transport.Text, []byte("too late"), "after Close"), transport.ErrClosed, "Write after Close of a Conn the peer closed")
	s.requireSameEnd(err, c.Err(), "Err after Close of a Conn the peer closed")
}

// checkClose: Close with a code and reason ends the Conn by the time it
// returns, with Remote false, and the peer gets the code and reason with a
// close handshake; a second Close returns nil and changes nothing.
func checkClose(s *suite) {
	c, p := s.open()
	const code, reason = transport.StatusCode(4000), "transporttest close"
	require.NoError(s.t, s.closeConn(c, code, reason), "Close")
	require.True(s.t, isClosed(c.Done()), "Done is closed when Close returns")
	s.requireLocalClose(c.Err(), code, reason, "Err after Close")
	err := s.readNow(c, "after Close")
	s.requireSameEnd(c.Err(), err, "Read after Close")
	if s.h.Caps.CloseHandshake {
		ce := s.requireCloseError(s.recvEnd(p, "the client's close frame"), "what the peer received")
		require.Equal(s.t, code, ce.Code, "code the peer received")
		require.Equal(s.t, reason, ce.Reason, "reason the peer received")
	}
	require.NoError(s.t, s.closeConn(c, transport.StatusGoingAway, "again"), "a second Close")
	s.requireLocalClose(c.Err(), code, reason, "Err after a second Close")
}

// checkCloseUnblocksRead: Close returns while a Read is blocked, and that
// Read returns the local close.
func checkCloseUnblocksRead(s *suite) {
	c, p := s.open()
	in := s.reader(c)
	require.NoError(s.t, p.Send(s.ctx(), transport.Text, []byte("one")))
	s.readData(in, "the message before the blocked Read")
	// The reader is back in Read, with nothing to read.
	const code, reason = transport.StatusCode(4001), "unblock the reader"
	require.NoError(s.t, s.closeConn(c, code, reason), "Close while a Read is blocked")
	err := s.readEnd(in, "the Read that Close unblocks")
	s.requireLocalClose(err, code, reason, "the blocked Read")
	s.requireSameEnd(c.Err(), err, "the blocked Read")
}

// checkCloseAborts: a code that may not be sent (1006) ends the Conn at
// once, with no close frame for the peer.
func checkCloseAborts(s *suite) {
	c, p := s.open()
	in := s.reader(c)
	require.NoError(s.t, s.closeConn(c, transport.StatusAbnormalClosure, ""), "Close(1006)")
	require.True(s.t, isClosed(c.Done()), "Done is closed when Close returns")
	s.requireLocalClose(c.Err(), transport.StatusAbnormalClosure, "", "Err after Close(1006)")
	s.requireSameEnd(c.Err(), s.readEnd(in, "Read after Close(1006)"), "Read after Close(1006)")
	if s.h.Caps.CloseHandshake {
		err := s.recvEnd(p, "the aborted connection")
		if ce, ok := errors.AsType[*transport.CloseError](err); ok {
			require.False(s.t, ce.Code.Sendable(), "the peer received a close frame (%v) from an abort", ce.Code)
		}
	}
}

// checkCloseConcurrently: Close from many goroutines at once, beside
// writers and Err, Done and Subprotocol: one Close wins, every call
// returns nil, the writers stop with errors, and the peer gets the
// winner's code.
func checkCloseConcurrently(s *suite) {
	const closers, writers = 8, 2
	c, p := s.open()
	in := s.reader(c)
	ctx := s.ctx()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for {
				if err := c.Write(ctx, transport.Binary, []byte("racing the close")); err != nil {
					return
				}
			}
		})
	}
	for i := range closers {
		wg.Go(func() {
			assert.NoError(s.t, c.Close(transport.StatusCode(4010+i), "concurrent"), "Close %d", i)
			<-c.Done()
			assert.Error(s.t, c.Err())
			_ = c.Subprotocol()
		})
	}
	s.bounded("concurrent Close calls and the writers", wg.Wait)
	ce := s.requireCloseError(c.Err(), "Err after concurrent Close calls")
	require.False(s.t, ce.Remote, "Remote after concurrent Close calls")
	require.True(s.t, ce.Code >= 4010 && ce.Code < 4010+closers, "code %v is none of the Close calls'", ce.Code)
	require.Equal(s.t, "concurrent", ce.Reason)
	s.requireSameEnd(c.Err(), s.readEnd(in, "Read after concurrent Close calls"), "Read after concurrent Close calls")
	if s.h.Caps.CloseHandshake {
		got := s.requireCloseError(s.recvEnd(p, "the winner's close frame"), "what the peer received")
		require.Equal(s.t, ce.Code, got.Code, "the peer received another code than Err reports")
	}
}

// lateMessages is how many messages checkCloseLateMessages sends between
// the close frames: more than the reader's results channel holds, so the
// reader is sometimes away handing one on while the Conn receives more.
const lateMessages = 300

// lateMessage is message i of checkCloseLateMessages.
func lateMessage(i int) transport.Message {
	typ := transport.Text
	if i%2 == 1 {
		typ = transport.Binary
	}
	return transport.Message{Type: typ, Payload: fmt.Appendf(nil, "late %d %s", i, bytes.Repeat([]byte{'.'}, i%97))}
}

// checkCloseLateMessages: the data messages the peer sends after it got the
// client's close frame, before it answers, reach a reader that keeps
// reading, in order; then the Read returns the local close, and Close
// returns nil having thrown nothing away (see [transport.DiscardCounter]).
// It needs Capabilities.CloseHandshake and a Peer that is a [CloseHolder];
// otherwise it is skipped.
func checkCloseLateMessages(s *suite) {
	if !s.h.Caps.CloseHandshake {
		s.t.Skip("no close handshake: no message comes between the close frames")
	}
	c, p := s.open()
	h, ok := p.(CloseHolder)
	if !ok {
		s.t.Skip("the Peer cannot hold back its answer to a close frame (see CloseHolder)")
	}
	h.HoldClose()
	in := s.reader(c)
	const code, reason = transport.StatusCode(4002), "late messages"
	closed := make(chan error, 1)
	go func() { closed <- c.Close(code, reason) }()
	got := s.requireCloseError(s.recvEnd(p, "the client's close frame"), "what the peer received")
	require.Equal(s.t, code, got.Code, "code the peer received")

	sent := make(chan error, 1)
	go func() {
		ctx := s.ctx()
		for i := range lateMessages {
			m := lateMessage(i)
			if err := p.Send(ctx, m.Type, m.Payload); err != nil {
				sent <- fmt.Errorf("Peer.Send of late message %d: %w", i, err)
				return
			}
		}
		p.Close(code, "")
		sent <- nil
	}()
	for i := range lateMessages {
		s.requireMessage(lateMessage(i), s.readData(in, "a message sent before the answer"), fmt.Sprintf("late message %d", i))
	}
	err := s.readEnd(in, "the end after the late messages")
	s.requireLocalClose(err, code, reason, "the Read after the late messages")
	var closeErr error
	s.bounded("Close", func() { closeErr = <-closed })
	require.NoError(s.t, closeErr, "Close of a handshake the peer answered")
	require.NoError(s.t, <-sent)
	s.requireSameEnd(c.Err(), err, "the Read after the late messages")
	if d := transport.DiscardsOf(c); d != nil {
		require.Zero(s.t, d.Discarded(), "messages thrown away with a reader reading")
	}
}

// checkAfterClose: after Close, normal or aborting, Write and Ping return
// errors matching ErrClosed and Read returns what Err reports.
func checkAfterClose(s *suite) {
	for _, code := range []transport.StatusCode{transport.StatusNormalClosure, transport.StatusAbnormalClosure} {
		c, _ := s.open()
		require.NoError(s.t, s.closeConn(c, code, ""), "Close(%v)", code)
		ctx := s.ctx()
		require.ErrorIs(s.t, s.write(ctx, c, transport.Text, []byte("after close"), "after Close"), transport.ErrClosed, "Write after Close(%v)", code)
		err := c.Ping(ctx, []byte("after close"))
		if s.h.Caps.Ping {
			require.ErrorIs(s.t, err, transport.ErrClosed, "Ping after Close(%v)", code)
		} else if !errors.Is(err, transport.ErrUnsupported) {
			require.ErrorIs(s.t, err, transport.ErrClosed, "Ping after Close(%v)", code)
		}
		err = s.readNow(c, "after Close")
		s.requireSameEnd(c.Err(), err, "Read after Close")
	}
}

// checkDrop: a connection lost without a close frame ends with code 1006;
// Done closes, Err reports it, and Write fails.
func checkDrop(s *suite) {
	c, p := s.open()
	in := s.reader(c)
	p.Drop()
	err := s.readEnd(in, "the dropped connection")
	code, ok := transport.CloseCode(err)
	require.True(s.t, ok, "Read after a drop: want a *transport.CloseError, got %v", err)
	require.Equal(s.t, transport.StatusAbnormalClosure, code, "code of a dropped connection")
	s.waitClosed(c.Done(), "Done after a drop")
	s.requireSameEnd(c.Err(), err, "the Read that saw the drop")
	require.Error(s.t, s.write(s.ctx(), c, transport.Text, []byte("into the void"), "after a drop"), "Write after a drop")
}
