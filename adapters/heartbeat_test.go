package adapters_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

var pings = policy.Heartbeat{Interval: 10 * time.Second, PongTimeout: 5 * time.Second}

// openWithHeartbeat connects a rig whose heartbeat pings every 10 s with a
// 5 s timeout, and returns the server's end once the first tick is armed.
func openWithHeartbeat(t *testing.T, hb policy.Heartbeat) (*rig, *memory.ServerConn) {
	r := newRig(t, rigConfig{heartbeat: &hb})
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	sc := r.accept()
	r.waitTimers(1) // the first probe's tick
	// The reader must be waiting for the network before the first probe:
	// a reader that starts its first Read after the probe has not been
	// waiting for the whole window, and the heartbeat gives no verdict.
	require.Eventually(t, func() bool {
		s := r.con.Current()
		if s == nil {
			return false
		}
		_, waiting := s.ReadProgress()
		return waiting
	}, deadline, time.Millisecond, "the reader never waited for the network")
	return r, sc
}

// probe steps to the next tick and waits until the probe armed its deadline.
func (r *rig) probe() {
	r.t.Helper()
	r.clk.Step(pings.Interval)
	r.waitTimers(2) // the deadline and the next tick
}

func (r *rig) rttsSeen() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.rtts...)
}

func (r *rig) waitRTTs(n int) []time.Duration {
	r.t.Helper()
	require.Eventually(r.t, func() bool { return len(r.rttsSeen()) >= n }, deadline, time.Millisecond)
	return r.rttsSeen()
}

func TestHeartbeatMeasuresRoundTrip(t *testing.T) {
	r, sc := openWithHeartbeat(t, pings)
	sc.Stall() // hold the pong back while time passes
	r.probe()
	r.clk.Step(2 * time.Second)
	sc.Resume() // the pong goes out now
	assert.Equal(t, []time.Duration{2 * time.Second}, r.waitRTTs(1))
	assert.Equal(t, 2*time.Second, r.hb.RTT())
	r.clk.Step(5 * time.Second) // past the deadline: already answered
	assert.Equal(t, fsm.Open, r.m.State())
}

// TestHeartbeatTimeoutReconnects is the regression test for clients that
// treat a heartbeat timeout as a user close and never come back.
func TestHeartbeatTimeoutReconnects(t *testing.T) {
	r, sc := openWithHeartbeat(t, pings)
	sc.Stall() // half-open: the peer is gone but nothing says so
	r.probe()
	r.clk.Step(pings.PongTimeout)
	tr := r.expect(fsm.EventHeartbeatTimeout)
	assert.Equal(t, fsm.Waiting, tr.To, "a heartbeat timeout is a failure, not a close")
	assert.Equal(t, uint16(transport.StatusAbnormalClosure), tr.CloseCode, "dropped without a close frame: 1006 (it was 0)")
	require.ErrorIs(t, tr.Cause, adapters.ErrHeartbeatTimeout)
	<-sc.Done()
	assert.ErrorIs(t, sc.Err(), memory.ErrDropped, "the silent connection is aborted, not closed politely")

	r.waitTimers(1)
	r.clk.StepToNext()
	r.expect(fsm.EventRetry, fsm.EventDialed)
}

func TestLateAnswerWithinTimeoutDoesNotDrop(t *testing.T) {
	r, sc := openWithHeartbeat(t, pings)
	sc.Stall()
	r.probe()
	r.clk.Step(pings.PongTimeout - time.Millisecond) // the answer comes at the last moment
	sc.Resume()
	r.waitRTTs(1)
	r.clk.Step(time.Millisecond)
	r.clk.Step(pings.Interval) // and the next probe goes out as usual
	r.waitRTTs(2)
	assert.Equal(t, fsm.Open, r.m.State())
}

func TestAnyInboundFrameCountsAsAlive(t *testing.T) {
	r, sc := openWithHeartbeat(t, pings)
	sc.Stall() // no pong will come
	r.probe()
	require.NoError(t, sc.Send(context.Background(), transport.Text, []byte("still here")))
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.msgs) == 1
	}, deadline, time.Millisecond)
	r.clk.Step(pings.PongTimeout)
	r.clk.Step(pings.Interval - pings.PongTimeout) // the next tick: a new probe
	r.waitTimers(2)
	assert.Equal(t, fsm.Open, r.m.State(), "a data frame after the probe proves the peer is alive")
	assert.Empty(t, r.rttsSeen(), "but it is not an answer, so no round trip is claimed")
	sc.Resume() // so the close handshake at the end is answered
}

func TestAppMessageHeartbeatWithMatcher(t *testing.T) {
	hb := policy.Heartbeat{Interval: 10 * time.Second, PongTimeout: 5 * time.Second, Mode: policy.AppMessage,
		Message: []byte(`{"type":"ping"}`),
		PongMatcher: func(m transport.Message) bool {
			return string(m.Payload) == `{"type":"pong"}`
		}}
	r, sc := openWithHeartbeat(t, hb)
	r.probe()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	got, err := sc.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, `{"type":"ping"}`, string(got.Payload))
	r.clk.Step(time.Second)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"type":"other"}`)))
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"type":"pong"}`)))
	assert.Equal(t, []time.Duration{time.Second}, r.waitRTTs(1))
}

func TestTimeoutEqualToIntervalIsRefused(t *testing.T) {
	m := fsm.New()
	defer m.Close()
	_, err := adapters.NewHeartbeat(m, policy.Heartbeat{Interval: time.Second, PongTimeout: time.Second})
	require.ErrorIs(t, err, policy.ErrInvalidConfig, "equal timeout and interval give false alarms")
}

func TestDisabledHeartbeatArmsNothing(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.connect()
	r.expect(fsm.EventConnect, fsm.EventDialed)
	r.accept()
	assert.Zero(t, r.clk.Waiters())
}

// TestOnlyAPongConfirms: a pong proves the peer read everything written
// before its ping, so it confirms those writes; an application answer
// gives the round trip but confirms nothing, since the peer may have sent
// it before it read the probe (docs/heartbeat.md). Nothing tested the
// second half: confirming on an application answer passed every test.
func TestOnlyAPongConfirms(t *testing.T) {
	app := policy.Heartbeat{Interval: 10 * time.Second, PongTimeout: 5 * time.Second, Mode: policy.AppMessage,
		Message:     []byte(`{"type":"ping"}`),
		PongMatcher: func(m transport.Message) bool { return string(m.Payload) == `{"type":"pong"}` }}
	for name, tc := range map[string]struct {
		hb      policy.Heartbeat
		pending int
	}{
		"a pong":                {pings, 0},
		"an application answer": {app, 1},
	} {
		t.Run(name, func(t *testing.T) {
			r, sc := openWithHeartbeat(t, tc.hb)
			s := r.con.Current()
			require.NotNil(t, s)
			_, ok := s.Wrote(1, "m", 1) // a message written before the probe
			require.True(t, ok)
			sc.Stall() // the pong waits until the probe's deadline is armed
			r.probe()
			sc.Resume()
			if tc.hb.Mode == policy.AppMessage {
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				defer cancel()
				_, err := sc.Recv(ctx)
				require.NoError(t, err)
				require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"type":"pong"}`)))
			}
			r.waitRTTs(1)
			n, _ := s.Pending()
			assert.Equal(t, tc.pending, n)
		})
	}
}
