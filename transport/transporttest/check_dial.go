package transporttest

import (
	"context"
	"reflect"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// dialResult is what one Dial returned.
type dialResult struct {
	c   transport.Conn
	err error
}

// dialAsync dials on a goroutine of its own.
func (s *suite) dialAsync(ctx context.Context, target transport.Target) <-chan dialResult {
	out := make(chan dialResult, 1)
	go func() {
		c, err := s.h.Transport.Dial(ctx, target)
		out <- dialResult{c, err}
	}()
	return out
}

// requireDialFailed fails the check unless the Dial returned within the
// wait with an error matching want and no Conn.
func (s *suite) requireDialFailed(ch <-chan dialResult, want error, what string) {
	s.t.Helper()
	var r dialResult
	select {
	case r = <-ch:
	case <-time.After(s.h.Wait):
		require.FailNow(s.t, "Dial did not return within the wait: "+what)
	}
	if r.c != nil && !holdsNil(r.c) {
		s.abortAtCleanup(r.c)
	}
	require.ErrorIs(s.t, r.err, want, "Dial: %s", what)
	require.True(s.t, r.c == nil, "Dial returned a Conn (%T) with its error, want a nil Conn: %s", r.c, what)
}

// holdsNil reports whether c holds a nil pointer, which is not a nil Conn.
func holdsNil(c transport.Conn) bool {
	v := reflect.ValueOf(c)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// checkDialEndedContext: a Dial whose ctx has ended before the call
// returns at once with ctx's error, even to a server that would hang, and
// leaves nothing open.
func checkDialEndedContext(s *suite) {
	hung := s.h.Hang()
	ctx, cancel := context.WithCancel(s.t.Context())
	cancel()
	s.requireDialFailed(s.dialAsync(ctx, hung.Target), context.Canceled, "a ctx cancelled before the call")
	require.NoError(s.t, hung.Released(s.ctx()), "the server still holds a connection of the refused dial")
}

// checkDialCancelled: cancelling the ctx of a Dial stuck in the handshake
// makes it return promptly with ctx's error, and lets go of the server.
func checkDialCancelled(s *suite) {
	hung := s.h.Hang()
	ctx, cancel := context.WithCancel(s.t.Context())
	defer cancel()
	ch := s.dialAsync(ctx, hung.Target)
	require.NoError(s.t, hung.Reached(s.ctx()), "the dial never reached the hanging server")
	cancel()
	s.requireDialFailed(ch, context.Canceled, "a ctx cancelled during the handshake")
	require.NoError(s.t, hung.Released(s.ctx()), "the server still holds the connection of the abandoned dial")
}

// checkDialDeadline: a Dial whose ctx's deadline passes during the
// handshake returns with an error matching context.DeadlineExceeded and
// lets go of the server.
func checkDialDeadline(s *suite) {
	hung := s.h.Hang()
	// The deadline is what the check is about, not a wait: whether it
	// passes before the dial reaches the server or after, Dial must
	// report it.
	ctx, cancel := context.WithTimeout(s.t.Context(), 50*time.Millisecond)
	defer cancel()
	s.requireDialFailed(s.dialAsync(ctx, hung.Target), context.DeadlineExceeded, "a ctx whose deadline passed")
	require.NoError(s.t, hung.Released(s.ctx()), "the server still holds the connection of the expired dial")
}

// checkSubprotocol: a dial offering subprotocols gets one of them, or
// fails with ErrSubprotocol; a dial offering none gets "".
func checkSubprotocol(s *suite) {
	if s.h.Subprotocol != "" {
		c, _ := s.open(unknownProtocol, s.h.Subprotocol)
		require.Equal(s.t, s.h.Subprotocol, c.Subprotocol(), "Subprotocol after offering %q", []string{unknownProtocol, s.h.Subprotocol})
		require.NoError(s.t, s.closeConn(c, transport.StatusNormalClosure, ""))
	}
	c, _ := s.open()
	require.Empty(s.t, c.Subprotocol(), "Subprotocol of a dial that offered none")
	require.NoError(s.t, s.closeConn(c, transport.StatusNormalClosure, ""))

	target := s.h.Target
	target.Subprotocols = []string{unknownProtocol}
	s.requireDialFailed(s.dialAsync(s.ctx(), target), transport.ErrSubprotocol, "offering only a subprotocol the server does not support")
}

// unknownProtocol is a subprotocol no server supports.
const unknownProtocol = "transporttest.unknown"
