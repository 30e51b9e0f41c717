package transporttest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/transport"
)

// check is one named subtest of Run.
type check struct {
	name string
	run  func(s *suite)
}

// checks lists every check Run makes, in order.
var checks = []check{
	{"Names", checkNames},
	{"RoundTrip", checkRoundTrip},
	{"WriteBadType", checkWriteBadType},
	{"WriteEndedContext", checkWriteEndedContext},
	{"ConcurrentWritesAndPings", checkConcurrentWrites},
	{"Ping", checkPing},
	{"PeerPing", checkPeerPing},
	{"PeerClose", checkPeerClose},
	{"Close", checkClose},
	{"CloseUnblocksRead", checkCloseUnblocksRead},
	{"CloseUnsendableCodeAborts", checkCloseAborts},
	{"CloseConcurrently", checkCloseConcurrently},
	{"CloseDeliversLateMessages", checkCloseLateMessages},
	{"OperationsAfterClose", checkAfterClose},
	{"Drop", checkDrop},
	{"DialEndedContext", checkDialEndedContext},
	{"DialContextEndsDuringHandshake", checkDialCancelled},
	{"DialDeadline", checkDialDeadline},
	{"Subprotocol", checkSubprotocol},
	{"OptionalInterfaces", checkOptional},
}

// Run checks a transport against the [transport.Transport] and
// [transport.Conn] contract, each check a named subtest of t. newHarness is
// called once per check, on that subtest's *testing.T, and must give a
// Harness with a server of its own (see [Harness]).
//
// After each check, once the cleanups of its *testing.T have run, Run
// verifies with goleak that no goroutine the check started is left. So Run
// must not run in parallel with other tests of the package: their
// goroutines would count against it.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	require.NotNil(t, newHarness, "transporttest: Run needs a Harness factory")
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, before) })
			h := newHarness(t)
			validate(t, &h)
			c.run(&suite{t: t, h: h})
		})
	}
}

// validate fails the test when h lacks what the checks need.
func validate(t *testing.T, h *Harness) {
	t.Helper()
	require.NotNil(t, h.Transport, "transporttest: Harness.Transport is nil")
	require.NotNil(t, h.Accept, "transporttest: Harness.Accept is nil")
	require.NotNil(t, h.Hang, "transporttest: Harness.Hang is nil")
	require.False(t, h.Wait < 0, "transporttest: Harness.Wait is negative")
	if h.Wait == 0 {
		h.Wait = DefaultWait
	}
}

// suite is the state of one check.
type suite struct {
	t *testing.T
	h Harness
}

// ctx returns a ctx that ends with the check, or after the harness's wait.
func (s *suite) ctx() context.Context {
	ctx, cancel := context.WithTimeout(s.t.Context(), s.h.Wait)
	s.t.Cleanup(cancel)
	return ctx
}

// open dials the harness's target, offering protos, accepts the server's
// end and returns both. The Conn is aborted at cleanup.
func (s *suite) open(protos ...string) (transport.Conn, Peer) {
	s.t.Helper()
	target := s.h.Target
	if len(protos) > 0 {
		target.Subprotocols = protos
	}
	c, err := s.h.Transport.Dial(s.ctx(), target)
	require.NoError(s.t, err, "Dial")
	require.NotNil(s.t, c, "Dial returned no Conn and no error")
	s.abortAtCleanup(c)
	p, err := s.h.Accept(s.ctx())
	require.NoError(s.t, err, "Harness.Accept")
	return c, p
}
