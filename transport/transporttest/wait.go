package transporttest

import (
	"bytes"
	"context"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// result is what one Read returned, with a payload the receiver owns.
type result struct {
	m   transport.Message
	err error
}

// reader calls Read on a goroutine of its own until it fails, and delivers
// every result in order. The goroutine ends at the check's cleanup, once the
// Conn is closed (a Conn whose Close leaves a Read blocked leaks it, which
// goleak reports).
func (s *suite) reader(c transport.Conn) <-chan result {
	out := make(chan result, 256)
	stop := make(chan struct{})
	go func() {
		for {
			m, err := transport.ReadOwned(c)
			select {
			case out <- result{m, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	s.t.Cleanup(func() { close(stop) })
	return out
}

// next returns the next result of a reader, failing the check when none
// comes within the wait.
func (s *suite) next(in <-chan result, what string) result {
	s.t.Helper()
	select {
	case r := <-in:
		return r
	case <-time.After(s.h.Wait):
		require.FailNow(s.t, "Read returned nothing within the wait: "+what)
		return result{}
	}
}

// readData returns the next Text or Binary message read, passing over
// pings and pongs.
func (s *suite) readData(in <-chan result, what string) transport.Message {
	s.t.Helper()
	for {
		r := s.next(in, what)
		require.NoError(s.t, r.err, "Read: %s", what)
		if r.m.Type.IsData() {
			return r.m
		}
		require.Contains(s.t, []transport.MessageType{transport.Ping, transport.Pong}, r.m.Type,
			"Read returned a message of an unknown type: %s", what)
	}
}

// readEnd reads until Read fails, passing over pings and pongs, and
// returns the error; a data message first fails the check.
func (s *suite) readEnd(in <-chan result, what string) error {
	s.t.Helper()
	for {
		r := s.next(in, what)
		if r.err != nil {
			return r.err
		}
		require.False(s.t, r.m.Type.IsData(), "Read returned a %s message %q, want the end: %s", r.m.Type, excerpt(r.m.Payload), what)
	}
}

// readPong reads until a Pong carrying payload, passing over data and
// other control messages.
func (s *suite) readPong(in <-chan result, payload []byte) {
	s.t.Helper()
	for {
		r := s.next(in, "a Pong answering Ping")
		require.NoError(s.t, r.err, "Read, waiting for a Pong")
		if r.m.Type == transport.Pong && bytes.Equal(r.m.Payload, payload) {
			return
		}
	}
}

// recvData returns the next Text or Binary message the peer received,
// passing over pings and pongs.
func (s *suite) recvData(p Peer, what string) transport.Message {
	s.t.Helper()
	ctx := s.ctx()
	for {
		m, err := p.Recv(ctx)
		require.NoError(s.t, err, "Peer.Recv: %s", what)
		if m.Type.IsData() {
			return m
		}
	}
}

// recvEnd receives until the peer's Recv fails, and returns the error.
func (s *suite) recvEnd(p Peer, what string) error {
	s.t.Helper()
	ctx := s.ctx()
	for {
		_, err := p.Recv(ctx)
		if err != nil {
			require.NoError(s.t, ctx.Err(), "Peer.Recv saw no end within the wait: %s", what)
			return err
		}
	}
}

// within runs fn on a goroutine of its own and reports whether it returned
// within the wait. What fn writes is visible once within returns true.
func (s *suite) within(fn func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return true
	case <-time.After(s.h.Wait):
		return false
	}
}

// bounded runs fn on a goroutine of its own and fails the check when it
// does not return within the wait. What fn writes is visible once bounded
// returns.
func (s *suite) bounded(what string, fn func()) {
	s.t.Helper()
	if !s.within(fn) {
		require.FailNow(s.t, what+" did not return within the wait")
	}
}

// readNow is c.Read, bounded by the wait: a Read that must return at once
// (after the Conn's end) fails the check instead of hanging the binary.
func (s *suite) readNow(c transport.Conn, what string) error {
	s.t.Helper()
	var err error
	s.bounded("Read "+what, func() { _, err = c.Read() })
	return err
}

// write is c.Write, bounded by the wait.
func (s *suite) write(ctx context.Context, c transport.Conn, typ transport.MessageType, p []byte, what string) error {
	s.t.Helper()
	var err error
	s.bounded("Write "+what, func() { err = c.Write(ctx, typ, p) })
	return err
}

// abortAtCleanup aborts c when the check ends; a Close that does not
// return within the wait fails the check instead of hanging the binary.
func (s *suite) abortAtCleanup(c transport.Conn) {
	s.t.Cleanup(func() {
		if !s.within(func() { _ = c.Close(transport.StatusAbnormalClosure, "") }) {
			s.t.Errorf("Close(1006) did not return within the wait (%v): a Close must return", s.h.Wait)
		}
	})
}

// waitClosed fails the check when ch is not closed within the wait.
func (s *suite) waitClosed(ch <-chan struct{}, what string) {
	s.t.Helper()
	select {
	case <-ch:
	case <-time.After(s.h.Wait):
		require.FailNow(s.t, what+" was not closed within the wait")
	}
}

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// requireMessage fails the check unless got has want's type and payload.
func (s *suite) requireMessage(want, got transport.Message, what string) {
	s.t.Helper()
	require.Equal(s.t, want.Type, got.Type, "message type: %s", what)
	require.True(s.t, bytes.Equal(want.Payload, got.Payload),
		"payload: %s: want %d bytes %q, got %d bytes %q", what, len(want.Payload), excerpt(want.Payload), len(got.Payload), excerpt(got.Payload))
}

// excerpt is the start of a payload, for a failure message.
func excerpt(p []byte) []byte {
	return p[:min(len(p), 40)]
}
