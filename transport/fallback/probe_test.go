package fallback_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/fallback"
	"github.com/tether-go/tether/transport/memory"
)

// onSecondary switches r to the secondary with a proxy refusal and returns
// the secondary Conn and its server end.
func onSecondary(t *testing.T, r *rig) (transport.Conn, *memory.ServerConn) {
	t.Helper()
	r.primary.SetDefault(memory.Refuse(http.StatusForbidden, nil, "blocked"))
	c := r.mustDial(t)
	require.Equal(t, "polling", transportName(c))
	sc, err := r.secondary.Accept(testCtx(t))
	require.NoError(t, err)
	return c, sc
}

func TestProbeScheduleAndUpgrade(t *testing.T) {
	r := newRig(t)
	c, sc := onSecondary(t, r)

	for i := range 3 { // the primary is still blocked: probe, and again
		assert.Equal(t, fallback.DefaultProbeInterval, waitTimer(t, r.fc))
		r.fc.Step(fallback.DefaultProbeInterval)
		_, err := r.primary.WaitDials(testCtx(t), 2+i)
		require.NoError(t, err)
	}
	assert.Equal(t, fallback.DefaultProbeInterval, waitTimer(t, r.fc))
	assert.Nil(t, c.Err(), "failed probes leave the secondary alone")

	r.primary.SetDefault(memory.Proceed()) // WebSocket is back
	r.fc.Step(fallback.DefaultProbeInterval)

	err := readErr(t, c)
	requireUpgradeClose(t, err)
	assert.Equal(t, err, c.Err())
	assert.Equal(t, "websocket", r.tr.Active())
	log := r.switchLog()
	require.Len(t, log, 2)
	assert.Equal(t, switchEvent{"polling", "websocket", fallback.ErrUpgrade}, log[1])

	// The server of the secondary saw the 1012; the probe connection was
	// closed normally.
	recv(t, sc.Done())
	code, _ := transport.CloseCode(sc.Err())
	assert.Equal(t, transport.StatusServiceRestart, code)
	probe, err := r.primary.Accept(testCtx(t))
	require.NoError(t, err)
	recv(t, probe.Done())
	ce, ok := errors.AsType[*transport.CloseError](probe.Err())
	require.True(t, ok)
	assert.Equal(t, transport.StatusNormalClosure, ce.Code)

	// The client's reconnect goes to the primary; nothing probes.
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	next := r.mustDial(t)
	assert.Equal(t, "websocket", transportName(next))
	assert.Zero(t, r.fc.Waiters())
}

func TestProbeIntervalOption(t *testing.T) {
	r := newRig(t, fallback.WithProbeInterval(5*time.Second))
	onSecondary(t, r)
	assert.Equal(t, 5*time.Second, waitTimer(t, r.fc))
}

func TestDialProbesWhenDue(t *testing.T) {
	r := newRig(t)
	c, _ := onSecondary(t, r)
	require.NoError(t, c.Close(transport.StatusNormalClosure, "")) // no prober runs now
	assert.Zero(t, r.fc.Waiters())

	r.fc.Step(fallback.DefaultProbeInterval - time.Second)
	early := r.mustDial(t)
	assert.Equal(t, "polling", transportName(early), "not due yet: no probe")
	assert.Len(t, r.primary.Dials(), 1)
	assert.Equal(t, time.Second, waitTimer(t, r.fc), "its prober keeps the schedule")
	require.NoError(t, early.Close(transport.StatusNormalClosure, ""))

	// Due, but the primary is still blocked: the Dial falls to the secondary
	// and the next probe is a full interval away.
	r.fc.Step(time.Second)
	c2 := r.mustDial(t)
	assert.Equal(t, "polling", transportName(c2))
	assert.Len(t, r.primary.Dials(), 2)
	assert.Equal(t, fallback.DefaultProbeInterval, waitTimer(t, r.fc))
	require.NoError(t, c2.Close(transport.StatusNormalClosure, ""))

	// Due and the primary is back: the probe's connection is the result.
	r.primary.SetDefault(memory.Proceed())
	r.fc.Step(fallback.DefaultProbeInterval)
	c3 := r.mustDial(t)
	assert.Equal(t, "websocket", transportName(c3))
	assert.Equal(t, "websocket", r.tr.Active())
	assert.Len(t, r.primary.Dials(), 3)
	assert.Len(t, r.secondary.Dials(), 3)
	log := r.switchLog()
	require.Len(t, log, 2)
	assert.Equal(t, switchEvent{"polling", "websocket", fallback.ErrUpgrade}, log[1])
}

func TestProbeTimeoutBoundsAHungPrimary(t *testing.T) {
	r := newRig(t, fallback.WithProbeTimeout(20*time.Millisecond))
	c, _ := onSecondary(t, r)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	r.primary.SetDefault(memory.Hang())
	r.fc.Step(fallback.DefaultProbeInterval)
	c2 := r.mustDial(t)
	assert.Equal(t, "polling", transportName(c2), "the hung probe gave up")
	assert.Len(t, r.primary.Dials(), 2)
}

func TestCloseStopsAProbeInFlight(t *testing.T) {
	r := newRig(t)
	c, _ := onSecondary(t, r)
	r.primary.SetDefault(memory.Hang())
	r.fc.Step(waitTimer(t, r.fc))
	hung, err := r.primary.Accept(testCtx(t))
	require.NoError(t, err)

	require.NoError(t, c.Close(transport.StatusGoingAway, "leaving"))
	recv(t, hung.Done())
	assert.ErrorIs(t, hung.Err(), memory.ErrAbandoned)
	code, _ := transport.CloseCode(c.Err())
	assert.Equal(t, transport.StatusGoingAway, code, "a user close is not an upgrade")
	assert.Equal(t, "polling", r.tr.Active())
}

func TestSecondaryDropIsNotAnUpgrade(t *testing.T) {
	r := newRig(t)
	c, sc := onSecondary(t, r)
	waitTimer(t, r.fc)
	r.primary.SetDefault(memory.Proceed())
	sc.Drop()
	// Whether or not the prober saw the drop before its timer fires, the
	// Conn reports the drop, never an upgrade.
	r.fc.Step(fallback.DefaultProbeInterval)
	err := readErr(t, c)
	assert.NotErrorIs(t, err, fallback.ErrUpgrade)
	code, _ := transport.CloseCode(err)
	assert.Equal(t, transport.StatusAbnormalClosure, code)
	require.NoError(t, c.Close(transport.StatusAbnormalClosure, ""))
	code, _ = transport.CloseCode(c.Err())
	assert.Equal(t, transport.StatusAbnormalClosure, code)
	assert.Zero(t, r.fc.Waiters())
}

func TestUpgradeEndsEverySecondaryConn(t *testing.T) {
	r := newRig(t)
	a, _ := onSecondary(t, r)
	b := r.mustDial(t)
	require.Equal(t, "polling", transportName(b))
	require.NoError(t, r.fc.BlockUntil(testCtx(t), 2))

	r.primary.SetDefault(memory.Proceed())
	r.fc.Step(fallback.DefaultProbeInterval)
	requireUpgradeClose(t, readErr(t, a))
	requireUpgradeClose(t, readErr(t, b))
	upgrades := 0
	for _, s := range r.switchLog() {
		if errors.Is(s.reason, fallback.ErrUpgrade) {
			upgrades++
		}
	}
	assert.Equal(t, 1, upgrades, "one switch, reported once")
}

// TestOneProbePerIntervalWhateverTheConns: the secondary Conns of one
// Transport share one probe schedule and one probe: when the probe is due,
// one of them dials the primary and the others wait for its outcome
// without dialing; when it succeeds, all of them end for the upgrade.
// Every Conn used to dial its own probe: 20 polling connections made 20
// simultaneous WebSocket dials each interval, and on the primary's return
// each completed a handshake of its own.
func TestOneProbePerIntervalWhateverTheConns(t *testing.T) {
	const n = 5
	r := newRig(t)
	first, _ := onSecondary(t, r)
	conns := []transport.Conn{first}
	for range n - 1 {
		c := r.mustDial(t)
		require.Equal(t, "polling", transportName(c))
		conns = append(conns, c)
	}
	require.NoError(t, r.fc.BlockUntil(testCtx(t), n), "every Conn's prober waits for the probe time")
	dials := len(r.primary.Dials()) // the refused dial that switched

	for range 3 { // the primary is still blocked
		r.fc.Step(fallback.DefaultProbeInterval)
		require.NoError(t, r.fc.BlockUntil(testCtx(t), n), "every prober waits for the next probe time")
		dials++
		require.Len(t, r.primary.Dials(), dials, "one probe for %d Conns", n)
	}

	r.primary.SetDefault(memory.Proceed()) // WebSocket is back
	r.fc.Step(fallback.DefaultProbeInterval)
	for _, c := range conns {
		requireUpgradeClose(t, readErr(t, c))
	}
	assert.Len(t, r.primary.Dials(), dials+1, "one probe, one handshake")
	probe, err := r.primary.Accept(testCtx(t))
	require.NoError(t, err)
	recv(t, probe.Done())
	code, _ := transport.CloseCode(probe.Err())
	assert.Equal(t, transport.StatusNormalClosure, code, "the probe's connection is closed normally")
	assert.Len(t, r.switchLog(), 2, "one downgrade, one upgrade")
}

// TestAbandonedProbeIsTakenOver: a caller that waits for the probe in
// flight probes itself when the probe's caller gives up, and the schedule
// does not move for a probe that never finished.
func TestAbandonedProbeIsTakenOver(t *testing.T) {
	r := newRig(t)
	c, _ := onSecondary(t, r)
	require.NoError(t, c.Close(transport.StatusNormalClosure, "")) // no prober
	r.primary.SetDefault(memory.Hang())
	r.fc.Step(fallback.DefaultProbeInterval)

	ctx, cancel := context.WithCancel(testCtx(t))
	first := make(chan error, 1)
	go func() {
		_, err := r.tr.Dial(ctx, transport.Target{URL: "wss://example.test/feed"})
		first <- err
	}()
	_, err := r.primary.WaitDials(testCtx(t), 2) // its probe hangs
	require.NoError(t, err)
	type dialed struct {
		c   transport.Conn
		err error
	}
	second := make(chan dialed, 1)
	go func() { // waits for that probe, or comes after it
		c, err := r.tr.Dial(testCtx(t), transport.Target{URL: "wss://example.test/feed"})
		second <- dialed{c, err}
	}()

	r.primary.SetDefault(memory.Proceed())
	cancel()
	require.ErrorIs(t, recv(t, first), context.Canceled)
	next := recv(t, second)
	require.NoError(t, next.err)
	t.Cleanup(func() { _ = next.c.Close(transport.StatusNormalClosure, "") })
	assert.Equal(t, "websocket", transportName(next.c), "the second Dial probed when the first gave up")
	assert.Len(t, r.primary.Dials(), 3)
	assert.Len(t, r.secondary.Dials(), 1)
}
