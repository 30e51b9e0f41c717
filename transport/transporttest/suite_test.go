package transporttest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/transporttest"
)

// TestExampleHarness runs the suite on the example's transport: the
// example's code works as shown.
func TestExampleHarness(t *testing.T) {
	transporttest.Run(t, newAuthedHarness)
}

// brokenEnv names the broken transport TestBrokenChild checks.
const brokenEnv = "TRANSPORTTEST_BROKEN"

// broken is a transport over memory that breaks the contract in one way,
// and the check that must catch it.
type broken struct {
	name  string
	check string
	wrap  func(transport.Transport) transport.Transport
}

var brokenTransports = []broken{
	{"PingClaimsSuccess", "Ping", conns(func(c transport.Conn) transport.Conn { return falsePing{c} })},
	{"RemoteFlipped", "PeerClose", conns(func(c transport.Conn) transport.Conn { return flippedRemote{c} })},
	{"WritesAfterClose", "OperationsAfterClose", conns(func(c transport.Conn) transport.Conn { return writesAfterClose{c} })},
	{"BinaryAsText", "RoundTrip", conns(func(c transport.Conn) transport.Conn { return allText{c} })},
	{"ReadStuckAfterClose", "CloseUnblocksRead", conns(func(c transport.Conn) transport.Conn { return stuckRead{c} })},
	{"CloseLeavesGoroutine", "Close", conns(func(c transport.Conn) transport.Conn { return leakyClose{c} })},
	{"DialIgnoresContext", "DialContextEndsDuringHandshake", func(tr transport.Transport) transport.Transport { return deafDial{tr} }},
	{"DialReturnsTypedNil", "DialEndedContext", func(tr transport.Transport) transport.Transport { return typedNilDial{tr} }},
	// Outside review: these three hung the test binary until its timeout
	// (in a check's cleanup, and in Reads and Writes the suite called
	// without a bound) instead of failing a check.
	{"CloseNeverReturns", "Names", conns(func(c transport.Conn) transport.Conn { return closeNeverReturns{c} })},
	{"ReadStuckAfterCloseInClose", "Close", conns(func(c transport.Conn) transport.Conn { return stuckRead{c} })},
	{"WriteNeverReturns", "RoundTrip", conns(func(c transport.Conn) transport.Conn { return writeNeverReturns{c} })},
}

// TestSuiteCatchesBrokenTransports runs the suite on each broken transport
// in a child process (a failing check fails its test, which cannot be
// caught in process) and requires the check meant for it to fail.
func TestSuiteCatchesBrokenTransports(t *testing.T) {
	for _, b := range brokenTransports {
		t.Run(b.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0],
				"-test.run=^TestBrokenChild$/^"+b.check+"$", "-test.timeout=2m")
			cmd.Env = append(os.Environ(), brokenEnv+"="+b.name)
			out, err := cmd.CombinedOutput()
			_, failed := errors.AsType[*exec.ExitError](err)
			require.True(t, failed, "the suite passed a transport that breaks the contract (%v):\n%s", err, out)
			require.Contains(t, string(out), "--- FAIL: TestBrokenChild/"+b.check+" ", "the check %s did not fail", b.check)
		})
	}
}

// TestBrokenChild is the child process of
// TestSuiteCatchesBrokenTransports: it runs the suite on the broken
// transport named in the environment, and does nothing without one.
func TestBrokenChild(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		return
	}
	for _, b := range brokenTransports {
		if b.name == name {
			transporttest.Run(t, func(t *testing.T) transporttest.Harness {
				h := transporttest.MemoryHarness(t, b.wrap)
				h.Wait = time.Second // every failure here is a wait that runs out
				return h
			})
			return
		}
	}
	require.FailNow(t, "no broken transport named "+name)
}

// conns returns a wrap that passes every Conn through wrapConn.
func conns(wrapConn func(transport.Conn) transport.Conn) func(transport.Transport) transport.Transport {
	return func(tr transport.Transport) transport.Transport { return connWrapper{tr, wrapConn} }
}

type connWrapper struct {
	transport.Transport
	wrapConn func(transport.Conn) transport.Conn
}

func (w connWrapper) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := w.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return w.wrapConn(c), nil
}

// falsePing reports success for a ping it never sends.
type falsePing struct{ transport.Conn }

func (falsePing) Ping(context.Context, []byte) error { return nil }

// flippedRemote reports the peer's close as this side's, and back.
type flippedRemote struct{ transport.Conn }

func (c flippedRemote) Read() (transport.Message, error) {
	m, err := c.Conn.Read()
	return m, flip(err)
}

func (c flippedRemote) Err() error { return flip(c.Conn.Err()) }

func flip(err error) error {
	ce, ok := errors.AsType[*transport.CloseError](err)
	if !ok {
		return err
	}
	cp := *ce
	cp.Remote = !cp.Remote
	return &cp
}

// writesAfterClose accepts, and drops, writes once the Conn has ended.
type writesAfterClose struct{ transport.Conn }

func (c writesAfterClose) Write(ctx context.Context, typ transport.MessageType, p []byte) error {
	if c.Conn.Err() != nil {
		return nil
	}
	return c.Conn.Write(ctx, typ, p)
}

// allText delivers Binary messages as Text.
type allText struct{ transport.Conn }

func (c allText) Read() (transport.Message, error) {
	m, err := c.Conn.Read()
	if m.Type == transport.Binary {
		m.Type = transport.Text
	}
	return m, err
}

// stuckRead never returns from a Read once the Conn has ended.
type stuckRead struct{ transport.Conn }

func (c stuckRead) Read() (transport.Message, error) {
	m, err := c.Conn.Read()
	if err != nil {
		select {}
	}
	return m, err
}

// closeNeverReturns blocks in Close for ever.
type closeNeverReturns struct{ transport.Conn }

func (closeNeverReturns) Close(transport.StatusCode, string) error { select {} }

// writeNeverReturns blocks in Write for ever, whatever its ctx.
type writeNeverReturns struct{ transport.Conn }

func (writeNeverReturns) Write(context.Context, transport.MessageType, []byte) error { select {} }

// leakyClose leaves a goroutine behind at Close.
type leakyClose struct{ transport.Conn }

func (c leakyClose) Close(code transport.StatusCode, reason string) error {
	go func() { select {} }()
	return c.Conn.Close(code, reason)
}

// deafDial dials without the caller's ctx.
type deafDial struct{ transport.Transport }

func (d deafDial) Dial(_ context.Context, target transport.Target) (transport.Conn, error) {
	return d.Transport.Dial(context.Background(), target)
}

// typedNilDial fails with a nil *nilConn, which is a non-nil Conn.
type typedNilDial struct{ transport.Transport }

type nilConn struct{ transport.Conn }

func (d typedNilDial) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := d.Transport.Dial(ctx, target)
	if err != nil {
		var none *nilConn
		return none, err
	}
	return c, nil
}
