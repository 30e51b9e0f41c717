package fallback_test

import (
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
