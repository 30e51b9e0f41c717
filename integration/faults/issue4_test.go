package faults

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/transport"
)

// detectionBound is how long a black hole may go unnoticed: a probe leaves
// at most one Interval after the hole opened, and its deadline is one
// PongTimeout later; tolerance covers late timers on a loaded box.
const detectionBound = hbInterval + hbPongTimeout + tolerance

// TestBlackHoleDetected (issue 4): a downstream black hole (Toxiproxy's
// timeout toxic with timeout 0: the connection stays up, nothing from the
// server gets through) is found by the heartbeat, not by a read error,
// within Interval + PongTimeout + tolerance of the toxic being added,
// measured to the heartbeat_timeout transition's timestamp; once the toxic
// is removed the client is Open again. Three cycles, each asserted.
func TestBlackHoleDetected(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.connect()
	r.snd.run(r.ctx)
	var detections []time.Duration
	for cycle := range 3 {
		r.waitRTTs(time.Now(), 1)
		before := r.rec.lastSeq()
		added := time.Now() // taken before the call: the measured time can only be longer
		r.px.add(toxic{Name: "hole", Type: "timeout", Stream: "downstream", Attributes: map[string]int{"timeout": 0}})
		hb := r.waitEvent(before, fsm.EventHeartbeatTimeout)
		removed := time.Now()
		r.px.remove("hole")
		open := r.waitOpenAfter(hb.Seq)

		trs := r.rec.transitionsAfter(before)
		require.NotEmpty(t, trs)
		first := trs[0]
		assert.Equal(t, fsm.EventHeartbeatTimeout, first.Event, "cycle %d: the first transition after the hole: %s", cycle, events(trs))
		assert.ErrorIs(t, first.Cause, tether.ErrHeartbeatTimeout)
		assert.Equal(t, fsm.Waiting, first.To, "a heartbeat timeout is a failure: the policy runs")
		detect := hb.Time.Sub(added)
		detections = append(detections, detect)
		assert.LessOrEqual(t, detect, detectionBound, "cycle %d: black hole detected late", cycle)
		assert.LessOrEqual(t, open.Time.Sub(removed), backoffMax+tolerance, "cycle %d: reconnect after the hole closed", cycle)
		t.Logf("cycle %d: detected after %v (bound %v), open %v after removal",
			cycle, detect.Round(time.Millisecond), detectionBound, open.Time.Sub(removed).Round(time.Millisecond))
	}
	acc := r.finish()
	t.Logf("RESULT black hole: detections %v; %v", detections, acc)
}

// TestResetPeerReconnects (issue 4): a connection reset by the proxy
// (reset_peer toxic) is a drop (dropped, close code 1006, never a
// heartbeat timeout) followed by a reconnect once the toxic is removed.
// Three cycles.
func TestResetPeerReconnects(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.connect()
	r.snd.run(r.ctx)
	for cycle := range 3 {
		r.waitServerMessages(3)
		before := r.rec.lastSeq()
		r.px.add(toxic{Name: "reset", Type: "reset_peer", Stream: "downstream", Attributes: map[string]int{"timeout": 0}})
		drop := r.waitEvent(before, fsm.EventDropped)
		r.px.remove("reset")
		r.waitOpenAfter(drop.Seq)

		trs := r.rec.transitionsAfter(before)
		assert.Regexp(t, `^`+dropCycle+`$`, events(trs), "cycle %d", cycle)
		assert.Equal(t, fsm.Open, drop.From)
		assert.Equal(t, uint16(transport.StatusAbnormalClosure), drop.CloseCode, "cycle %d: a reset is an abnormal closure", cycle)
		assert.Zero(t, count(trs, fsm.EventHeartbeatTimeout), "cycle %d: the reset, not the heartbeat, ended the connection", cycle)
		t.Logf("cycle %d: %s (cause: %v)", cycle, events(trs), drop.Cause)
	}
	acc := r.finish()
	assert.Equal(t, 4, acc.opens, "one open, then one reconnect per reset")
	t.Logf("RESULT reset_peer: %v", acc)
}

// TestLatencyBelowPongTimeout (issue 4): 100 ms ± 40 ms of latency on the
// server's answers, below the 300 ms pong timeout, drops nothing over
// eight heartbeat intervals: no heartbeat_timeout, no dropped, no
// transition at all, and the probes' round trips were measured through
// OnRTT and show the latency.
func TestLatencyBelowPongTimeout(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.connect()
	r.snd.run(r.ctx)
	before := r.rec.lastSeq()
	added := time.Now()
	r.px.add(toxic{Name: "lat", Type: "latency", Stream: "downstream", Attributes: map[string]int{"latency": 100, "jitter": 40}})
	r.waitRTTs(added, 9) // eight full intervals after the first probe under latency
	trs := r.rec.transitionsAfter(before)
	assert.Empty(t, events(trs), "latency below the pong timeout changed the state")
	assert.Equal(t, fsm.Open, r.c.State())

	rtts := r.rec.rttsSince(added)[1:] // the first probe may have left before the toxic
	lo, hi := minMax(rtts)
	// A lower bound only (load can only add to it): the pongs went
	// through the toxic.
	assert.GreaterOrEqual(t, lo, 60*time.Millisecond, "round trips do not show the 100 ms ± 40 ms latency")
	assert.Positive(t, r.c.RTT(), "Client.RTT")
	r.px.remove("lat")
	acc := r.finish()
	assert.Zero(t, acc.lost)
	assert.Zero(t, acc.reported)
	t.Logf("RESULT latency: %d round trips, min %v max %v; %v", len(rtts), lo, hi, acc)
}

// restarts is how many times TestServerRestarts kills and restarts the
// server.
const restarts = 20

// TestServerRestarts (issue 4): the Node ws peer is killed and started
// again on the same port 20 times. The client reconnects every time: 20
// drops, 20 reconnects, and exactly one Open per cycle, none while the
// server is down.
func TestServerRestarts(t *testing.T) {
	port := freePort(t)
	p := peer.StartT(t, peer.WithPort(port))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	rec := newRecorder(newBell())
	// The peer pings every 40 ms; the client's pongs, which the peer
	// reports, show the connection carries frames.
	c := newClient(t, ctx, p.URL("/ping?"+url.Values{"id": {"restarts"}, "interval": {"40"}}.Encode()), rec)
	require.NoError(t, c.Connect(ctx))
	_, err := rec.waitTransition(ctx, 0, func(tr fsm.Transition) bool { return tr.To == fsm.Open })
	require.NoError(t, err)
	require.NoError(t, waitPongs(ctx, p, 3))

	for cycle := range restarts {
		before := rec.lastSeq()
		require.NoError(t, p.Stop()) // SIGKILL: the kernel resets the connection
		drop, err := rec.waitTransition(ctx, before, func(tr fsm.Transition) bool { return tr.From == fsm.Open })
		require.NoError(t, err, "cycle %d: no drop", cycle)
		assert.Equal(t, fsm.EventDropped, drop.Event, "cycle %d", cycle)
		down := rec.transitionsAfter(before)
		assert.Zero(t, count(down, fsm.EventDialed), "cycle %d: dialed while the server was down", cycle)

		p = peer.StartT(t, peer.WithPort(port))
		open, err := rec.waitTransition(ctx, drop.Seq, func(tr fsm.Transition) bool { return tr.To == fsm.Open })
		require.NoError(t, err, "cycle %d: no reconnect", cycle)
		// Keep the connection up past minUptime, so the next loss starts a
		// fresh backoff streak: three answered pings, 120 ms at least.
		require.NoError(t, waitPongs(ctx, p, 3), "cycle %d", cycle)
		trs := rec.transitionsAfter(before)
		assert.Regexp(t, `^`+dropCycle+`$`, events(trs), "cycle %d", cycle)
		assert.Equal(t, 1, count(trs, fsm.EventDialed), "cycle %d: exactly one Open", cycle)
		t.Logf("cycle %d: %s, open %v after the drop", cycle, events(trs), open.Time.Sub(drop.Time).Round(time.Millisecond))
	}
	all := rec.transitionsAfter(0)
	assert.Equal(t, restarts+1, count(all, fsm.EventDialed), "the first open and one per restart")
	assert.Equal(t, restarts, count(all, fsm.EventDropped))
	assert.Zero(t, count(all, fsm.EventHeartbeatTimeout))
	t.Logf("RESULT restarts: %d restarts, %d opens, %d drops, %d failed dials",
		restarts, count(all, fsm.EventDialed), count(all, fsm.EventDropped), count(all, fsm.EventDialFailed))
}

// waitPongs waits until the peer has received n pongs from the client.
func waitPongs(ctx context.Context, p *peer.Peer, n int) error {
	seen := 0
	_, err := p.Wait(ctx, func(e peer.Event) bool {
		if e.ID == "restarts" && e.Kind == peer.KindPong {
			seen++
		}
		return seen >= n
	})
	return err
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}
