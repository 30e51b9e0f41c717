package adapters_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

// spyTransport dials through the memory server's transport and hands each
// Conn to the test wrapped in a spyConn.
type spyTransport struct {
	inner transport.Transport
	conns chan *spyConn
}

func (t *spyTransport) Name() string { return t.inner.Name() }

func (t *spyTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := t.inner.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	w := &spyConn{Conn: c, calls: make(chan string, 64), errChecked: make(chan struct{}, 1)}
	t.conns <- w
	return w, nil
}

// spyConn reports each Write ("write") and confirmation-probe Ping ("probe")
// on calls, in the order they happen, and can be marked as failed by the
// client itself: from fail on, Err returns that cause (and says it was asked
// on errChecked), and Read, once the connection ends, returns it too, as a
// Conn whose client is failing it (a close with 1009 on its way) does.
type spyConn struct {
	transport.Conn
	calls      chan string
	errChecked chan struct{}

	mu     sync.Mutex
	failed error
}

func (c *spyConn) Unwrap() transport.Conn { return c.Conn }

func (c *spyConn) Write(ctx context.Context, typ transport.MessageType, payload []byte) error {
	err := c.Conn.Write(ctx, typ, payload)
	if err == nil {
		c.calls <- "write"
	}
	return err
}

func (c *spyConn) Ping(ctx context.Context, payload []byte) error {
	err := c.Conn.Ping(ctx, payload)
	if err == nil && bytes.HasPrefix(payload, []byte("tether/ack")) {
		c.calls <- "probe"
	}
	return err
}

func (c *spyConn) fail(err error) {
	c.mu.Lock()
	c.failed = err
	c.mu.Unlock()
}

func (c *spyConn) cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

func (c *spyConn) Err() error {
	if err := c.cause(); err != nil {
		select {
		case c.errChecked <- struct{}{}:
		default:
		}
		return err
	}
	return c.Conn.Err()
}

func (c *spyConn) Read() (transport.Message, error) {
	m, err := c.Conn.Read()
	if err != nil {
		if cause := c.cause(); cause != nil {
			return m, cause
		}
	}
	return m, err
}

// newSpyRig is newRig with the Connector dialing through a spyTransport.
func newSpyRig(t *testing.T, cfg rigConfig) (*rig, *spyTransport) {
	t.Helper()
	var spy *spyTransport
	cfg.wrap = func(inner transport.Transport) transport.Transport {
		spy = &spyTransport{inner: inner, conns: make(chan *spyConn, 4)}
		return spy
	}
	return newRig(t, cfg), spy
}

// nextCall returns the next Write or probe the spy saw.
func nextCall(t *testing.T, c *spyConn) string {
	t.Helper()
	select {
	case call := <-c.calls:
		return call
	case <-time.After(deadline):
		require.FailNow(t, "no write or probe on the connection")
	}
	return ""
}

// TestRecordIsBoundedByBytes: docs/reliability.md promises that the record
// of unconfirmed writes is bounded by payload bytes as well as by count
// ("a connection holds at most 4 MiB of payload for confirmation"), and
// that "when the record is full, a Send waits for a confirmation". With a
// 1,900-byte bound and a count bound far away, 95 writes of 20 bytes fill
// it: the next Send sends a probe of its own and waits, writing nothing,
// until the peer's answers confirm what was written.
func TestRecordIsBoundedByBytes(t *testing.T) {
	const size, writes = 20, 95
	r, spy := newSpyRig(t, rigConfig{outboxOpts: []adapters.OutboxOption{
		adapters.WithRecordLimits(adapters.RecordLimits{Messages: 1000, Bytes: size * writes})}})
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	sc := r.accept()
	c := <-spy.conns
	sc.Stall()           // no pong answers a probe until Resume
	t.Cleanup(sc.Resume) // before the rig shuts down, should the test stop early

	msg := strings.Repeat("x", size)
	// 1/64 of the bound (about 30 bytes) asks for a probe: after every
	// second write, so the last write is not covered by one.
	for i := 1; i <= writes; i++ {
		send(t, r, msg)
		require.Equal(t, "write", nextCall(t, c), "write %d", i)
		if i%2 == 0 {
			require.Equal(t, "probe", nextCall(t, c), "after write %d", i)
		}
	}
	s := r.con.Current()
	require.NotNil(t, s)
	n, bytes := s.Pending()
	require.Equal(t, writes, n)
	require.Equal(t, size*writes, bytes, "the record holds its byte bound: full")

	done := make(chan error, 1)
	go func() {
		_, err := r.out.Send(context.Background(), transport.Text, []byte(msg), msg)
		done <- err
	}()
	require.Equal(t, "probe", nextCall(t, c),
		"a Send that finds the record full by bytes asks for a confirmation instead of writing")
	select {
	case err := <-done:
		require.FailNow(t, "Send returned while the record was full", "err %v", err)
	default:
	}
	n, bytes = s.Pending()
	assert.Equal(t, writes, n, "nothing more was written")
	assert.Equal(t, size*writes, bytes)

	sc.Resume() // the pongs confirm the writes
	require.NoError(t, <-done)
	assert.Equal(t, "write", nextCall(t, c))
	assert.Equal(t, slices.Repeat([]string{msg}, writes+1), recvAll(t, sc, writes+1))
}

// TestHeartbeatNeverRelabelsTheClientsOwnFailure: docs/heartbeat.md promises
// that "a failure the client raised itself is never relabelled: when the
// connection is already being failed (a 1009 close on its way, say), a
// heartbeat deadline in that moment gives no verdict, and the connection
// ends with its own cause" rather than with ErrHeartbeatTimeout.
func TestHeartbeatNeverRelabelsTheClientsOwnFailure(t *testing.T) {
	hb := pings
	r, spy := newSpyRig(t, rigConfig{heartbeat: &hb})
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	sc := r.accept()
	c := <-spy.conns
	r.waitTimers(1) // the first probe's tick
	require.Eventually(t, func() bool {
		_, waiting := r.con.Current().ReadProgress()
		return waiting
	}, deadline, time.Millisecond, "the reader never waited for the network")

	sc.Stall()           // the pong never comes
	t.Cleanup(sc.Resume) // before the rig shuts down, should the test stop early
	r.probe()
	tooBig := &transport.CloseError{Code: transport.StatusMessageTooBig, Reason: "message too big"}
	c.fail(tooBig) // the client is failing the connection: its close is on its way
	r.clk.Step(pings.PongTimeout)
	select {
	case <-c.errChecked: // the deadline looked, and saw the connection failing
	case tr := <-r.sub.C():
		require.FailNow(t, "the deadline gave a verdict on a connection the client was failing", "%v", tr)
	case <-time.After(deadline):
		require.FailNow(t, "the pong deadline never ran")
	}

	sc.Drop() // the connection ends: the reader reports the client's cause
	tr := r.next()
	require.Equal(t, fsm.EventDropped, tr.Event, "got %v", tr)
	assert.ErrorIs(t, tr.Cause, tooBig)
	assert.NotErrorIs(t, tr.Cause, adapters.ErrHeartbeatTimeout, "never relabelled as a heartbeat timeout")
}

// TestOneProbeGivesOneRoundTrip: docs/heartbeat.md promises that "the answer
// to a probe ... gives the round-trip time": the first matching frame after
// the probe is the answer. A second matching frame for the same probe
// answers nothing: it gives no second round trip (RTT keeps the first) and
// changes nothing in the record of unconfirmed writes.
func TestOneProbeGivesOneRoundTrip(t *testing.T) {
	hb := policy.Heartbeat{Interval: 10 * time.Second, PongTimeout: 5 * time.Second, Mode: policy.AppMessage,
		Message:     []byte(`{"type":"ping"}`),
		PongMatcher: func(m transport.Message) bool { return string(m.Payload) == `{"type":"pong"}` }}
	r, sc := openWithHeartbeat(t, hb)
	s := r.con.Current()
	require.NotNil(t, s)
	_, ok := s.Wrote(1, "m", 1) // a message written before the probe
	require.True(t, ok)

	r.probe()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	got, err := sc.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, `{"type":"ping"}`, string(got.Payload))

	r.clk.Step(time.Second)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"type":"pong"}`)))
	require.Equal(t, []time.Duration{time.Second}, r.waitRTTs(1))
	msgs, size := s.Pending()

	r.clk.Step(time.Second)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"type":"pong"}`))) // a second answer
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("marker")))
	// The reader hands messages on in order, each to the heartbeat before
	// the handler: once the marker reached the handler, the second answer
	// has been seen.
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.msgs) > 0 && string(r.msgs[len(r.msgs)-1]) == "marker"
	}, deadline, time.Millisecond)

	assert.Equal(t, []time.Duration{time.Second}, r.rttsSeen(), "one probe, one round trip")
	assert.Equal(t, time.Second, r.hb.RTT())
	msgs2, size2 := s.Pending()
	assert.Equal(t, msgs, msgs2, "the second answer confirms nothing")
	assert.Equal(t, size, size2)
	assert.Equal(t, 1, msgs2, "an application answer confirms nothing")

	// The next probe is answered as usual.
	r.clk.Step(pings.Interval - 2*time.Second)
	r.waitTimers(2)
	got, err = sc.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, `{"type":"ping"}`, string(got.Payload))
	r.clk.Step(3 * time.Second)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"type":"pong"}`)))
	assert.Equal(t, []time.Duration{time.Second, 3 * time.Second}, r.waitRTTs(2))
	assert.Equal(t, fsm.Open, r.m.State())
}
