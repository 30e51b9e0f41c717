package faults

import (
	"errors"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// faultRow is one row of the fault matrix. Each row states what it expects
// and the runner asserts it.
type faultRow struct {
	name  string
	toxic string // the toxics and their parameters, as docs/reliability.md prints them
	opts  rigOptions
	// fault injects the fault into a live rig, waits for its effect and
	// heals it. It returns when it injected and when it healed (zero: the
	// fault ends the client, nothing to heal).
	fault func(r *rig) (injected, healed time.Time)
	// expect matches the names of the events of the transitions from the
	// injection until the client is back to normal, separated by spaces.
	expect *regexp.Regexp
	// heartbeat: a heartbeat_timeout must be among them (true) or must not
	// (false).
	heartbeat bool
	// detect bounds the time from the injection to the first transition
	// out of Open; 0 when no transition out of Open is expected, or when
	// its moment depends on the traffic (limit_data).
	detect time.Duration
	// recovery bounds the time from healing to Open again (or, for a row
	// whose fault is the user's close, from close to closed).
	recovery time.Duration
	// lossless: no client message may be lost or even reported, and no
	// server message lost before the final close.
	lossless bool
	// check makes the row's own assertions on what was measured.
	check func(t *testing.T, r *rig, m measured)
}

// measured is what a row run measured.
type measured struct {
	events   string
	detect   time.Duration // injection to the first transition out of Open; -1: none
	recovery time.Duration // healing to Open (or close to closed); -1: none
	acc      accounting
	trs      []fsm.Transition
	injected time.Time
	extra    map[string]any
}

// drops: one or more cycles of a drop and a reconnect, with failed dials in
// between.
const dropCycle = `dropped( retry dial_failed)* retry dialed`

var faultMatrix = []faultRow{
	{
		name:  "latency_jitter",
		toxic: "latency 60 ms ± 30 ms jitter, both directions",
		fault: func(r *rig) (time.Time, time.Time) {
			at := time.Now()
			r.px.add(toxic{Name: "lat_up", Type: "latency", Stream: "upstream", Attributes: map[string]int{"latency": 60, "jitter": 30}})
			r.px.add(toxic{Name: "lat_down", Type: "latency", Stream: "downstream", Attributes: map[string]int{"latency": 60, "jitter": 30}})
			r.waitRTTs(at, 6) // six heartbeat intervals under latency
			r.px.remove("lat_up")
			r.px.remove("lat_down")
			return at, time.Time{}
		},
		expect:   regexp.MustCompile(`^$`),
		lossless: true,
		check: func(t *testing.T, r *rig, m measured) {
			rtts := r.rec.rttsSince(m.injected)
			require.GreaterOrEqual(t, len(rtts), 6)
			lo, hi := minMax(rtts[1:]) // the first probe may have left before the toxics
			m.extra["rtt_min"], m.extra["rtt_max"] = lo, hi
			// 30 ms at least each way (a lower bound: load only adds).
			assert.GreaterOrEqual(t, lo, 60*time.Millisecond, "the latency toxic did not delay the pongs")
		},
	},
	{
		name:  "black_hole",
		toxic: "timeout 0 (data dropped, connection kept) downstream, removed after the heartbeat fired",
		fault: func(r *rig) (time.Time, time.Time) {
			before := r.rec.lastSeq()
			at := time.Now()
			r.px.add(toxic{Name: "hole", Type: "timeout", Stream: "downstream", Attributes: map[string]int{"timeout": 0}})
			r.waitEvent(before, fsm.EventHeartbeatTimeout)
			healed := time.Now()
			r.px.remove("hole")
			return at, healed
		},
		expect:    regexp.MustCompile(`^heartbeat_timeout( retry dial_failed)* retry dialed$`),
		heartbeat: true,
		detect:    hbInterval + hbPongTimeout + tolerance,
		recovery:  backoffMax + tolerance,
	},
	{
		name:  "reset_peer",
		toxic: "reset_peer 0 ms downstream (RST with SO_LINGER 0 on new connections), removed after a reset dial",
		fault: func(r *rig) (time.Time, time.Time) {
			before := r.rec.lastSeq()
			at := time.Now()
			r.px.add(toxic{Name: "reset", Type: "reset_peer", Stream: "downstream", Attributes: map[string]int{"timeout": 0}})
			r.waitEvent(before, fsm.EventDropped)
			r.waitEvent(before, fsm.EventDialFailed) // a dial the proxy reset
			healed := time.Now()
			r.px.remove("reset")
			return at, healed
		},
		expect:   regexp.MustCompile(`^dropped( retry dial_failed)+ retry dialed$`),
		detect:   20*time.Millisecond + tolerance, // the toxic acts on the server's next message
		recovery: backoffMax + tolerance,
		check: func(t *testing.T, _ *rig, m measured) {
			var reset int
			for _, tr := range m.trs {
				if tr.Event == fsm.EventDialFailed && errors.Is(tr.Cause, syscall.ECONNRESET) {
					reset++
				}
			}
			m.extra["dials_reset"] = reset
			assert.Positive(t, reset, "no dial failed with ECONNRESET")
		},
	},
	{
		name:  "slicer",
		toxic: "slicer average 8 B ± 4 B, delay 0, both directions; 512 B pads both ways",
		opts:  rigOptions{serverPad: 512, clientPad: 512},
		fault: func(r *rig) (time.Time, time.Time) {
			at := time.Now()
			attrs := map[string]int{"average_size": 8, "size_variation": 4, "delay": 0}
			r.px.add(toxic{Name: "slice_up", Type: "slicer", Stream: "upstream", Attributes: attrs})
			r.px.add(toxic{Name: "slice_down", Type: "slicer", Stream: "downstream", Attributes: attrs})
			r.waitServerMessages(50)
			r.waitClientMessages(50)
			r.px.remove("slice_up")
			r.px.remove("slice_down")
			return at, time.Time{}
		},
		expect:   regexp.MustCompile(`^$`),
		lossless: true,
	},
	{
		name:  "limit_data",
		toxic: "limit_data 4096 B upstream (the connection is closed after 4 KiB from the client), removed at the drop",
		opts:  rigOptions{clientPad: 256},
		fault: func(r *rig) (time.Time, time.Time) {
			before := r.rec.lastSeq()
			at := time.Now()
			r.px.add(toxic{Name: "limit", Type: "limit_data", Stream: "upstream", Attributes: map[string]int{"bytes": 4096}})
			r.waitEvent(before, fsm.EventDropped)
			healed := time.Now()
			r.px.remove("limit")
			return at, healed
		},
		// A reconnect that wins the race with the removal is cut again:
		// one or more cycles.
		expect:   regexp.MustCompile(`^` + dropCycle + `( ` + dropCycle + `)*$`),
		recovery: backoffMax + tolerance,
	},
	{
		name:  "bandwidth",
		toxic: "bandwidth 32 KB/s upstream, a burst of 32 messages of 2 KiB",
		fault: func(r *rig) (time.Time, time.Time) {
			at := time.Now()
			r.px.add(toxic{Name: "bw", Type: "bandwidth", Stream: "upstream", Attributes: map[string]int{"rate": 32}})
			first := r.snd.sent() + 1
			for range burstCount {
				require.NoError(r.t, r.snd.send(r.ctx, burstPad))
			}
			last := r.snd.sent()
			require.NoError(r.t, r.bell.until(r.ctx, func() bool { return r.srv.has(last) }), "the burst did not arrive")
			r.burst = burstSpan{first: first, last: last, start: at}
			r.waitRTTs(time.Now(), 2) // the heartbeat still answers after the burst
			r.px.remove("bw")
			return at, time.Time{}
		},
		expect:   regexp.MustCompile(`^$`),
		lossless: true,
		check: func(t *testing.T, r *rig, m measured) {
			snap := r.srv.snapshot()
			var arrived time.Time
			for i, q := range snap.got {
				if q == r.burst.last {
					arrived = time.Unix(0, snap.gotAt[i])
				}
			}
			took := arrived.Sub(r.burst.start)
			nominal := time.Duration(float64(burstCount*burstPad) / 32e3 * float64(time.Second))
			m.extra["burst_took"], m.extra["burst_nominal"] = took, nominal
			// A lower bound only: the cap must have slowed the burst (load
			// can only slow it more).
			assert.GreaterOrEqual(t, took, nominal/2, "the bandwidth cap did not slow the burst")
		},
	},
	{
		name:  "proxy_down_up",
		toxic: "proxy disabled (listener closed, connections closed) until 3 dials failed, then enabled",
		fault: func(r *rig) (time.Time, time.Time) {
			before := r.rec.lastSeq()
			retries := r.rec.numRetries()
			at := time.Now()
			r.px.disable()
			require.NoError(r.t, r.bell.until(r.ctx, func() bool {
				return count(r.rec.transitionsAfter(before), fsm.EventDialFailed) >= 3
			}), "fewer than 3 failed dials while the proxy was down")
			healed := time.Now()
			r.px.enable()
			r.retriesFrom = retries
			return at, healed
		},
		expect:   regexp.MustCompile(`^dropped( retry dial_failed){3,} retry dialed$`),
		detect:   tolerance,
		recovery: backoffMax + tolerance,
		check: func(t *testing.T, r *rig, m measured) {
			rs := r.rec.retriesSince(r.retriesFrom)
			require.GreaterOrEqual(t, len(rs), 4)
			delays := make([]time.Duration, len(rs))
			for i, x := range rs {
				delays[i] = x.Delay
				assert.Equal(t, i+1, x.Attempt, "attempt numbers of the outage")
				if i > 0 {
					assert.True(t, x.Delay > rs[i-1].Delay || x.Delay == backoffMax, "the backoff did not grow: %v", delays)
				}
			}
			m.extra["backoff"] = delays
		},
	},
	{
		name:  "slow_close",
		toxic: "latency 400 ms upstream and slow_close 2000 ms downstream, then Close",
		fault: func(r *rig) (time.Time, time.Time) {
			at := time.Now()
			r.px.add(toxic{Name: "lat_up", Type: "latency", Stream: "upstream", Attributes: map[string]int{"latency": 400}})
			r.px.add(toxic{Name: "slow", Type: "slow_close", Stream: "downstream", Attributes: map[string]int{"delay": 2000}})
			require.NoError(r.t, r.c.Close(r.ctx))
			return at, time.Time{}
		},
		expect:   regexp.MustCompile(`^close closed$`),
		recovery: closeTimeout + tolerance,
		lossless: true,
		check: func(t *testing.T, r *rig, m measured) {
			closed := m.trs[len(m.trs)-1]
			assert.Equal(t, fsm.Closed, closed.To)
			assert.NoError(t, closed.Cause, "the close handshake should have completed")
		},
	},
	{
		name:  "close_unanswered",
		toxic: "timeout 0 upstream (the close frame never arrives), 5 messages, then Close",
		fault: func(r *rig) (time.Time, time.Time) {
			at := time.Now()
			r.px.add(toxic{Name: "hole_up", Type: "timeout", Stream: "upstream", Attributes: map[string]int{"timeout": 0}})
			for range 5 {
				require.NoError(r.t, r.snd.send(r.ctx, 0)) // swallowed: must be reported
			}
			require.NoError(r.t, r.c.Close(r.ctx))
			return at, time.Time{}
		},
		expect:   regexp.MustCompile(`^close closed$`),
		recovery: closeTimeout + tolerance,
		check: func(t *testing.T, r *rig, m measured) {
			closed := m.trs[len(m.trs)-1]
			assert.Equal(t, fsm.Closed, closed.To)
			assert.ErrorIs(t, closed.Cause, transport.ErrTimeout, "the close handshake should have timed out")
			assert.GreaterOrEqual(t, m.acc.lost, 5, "the swallowed messages")
		},
	},
}

const (
	burstCount = 32
	burstPad   = 2048
)

// burstSpan is the burst of the bandwidth row.
type burstSpan struct {
	first, last int
	start       time.Time
}

// TestFaultMatrix runs every fault of issue 8 against a live client, one
// subtest per row, each with its own server, proxy and client, while both
// sides send sequence-numbered messages.
func TestFaultMatrix(t *testing.T) {
	for _, row := range faultMatrix {
		t.Run(row.name, func(t *testing.T) {
			m := runRow(t, row)
			t.Logf("RESULT %s: events %q, detect %v, recovery %v, extra %v; %v",
				row.name, m.events, fmtDur(m.detect), fmtDur(m.recovery), m.extra, m.acc)
		})
	}
}

// runRow runs one row and asserts what it states.
func runRow(t *testing.T, row faultRow) measured {
	r := newRig(t, row.opts)
	r.connect()
	r.snd.run(r.ctx)
	r.waitRTTs(time.Now(), 1) // the heartbeat runs
	r.waitClientMessages(5)   // and so does the traffic, both ways
	r.waitServerMessages(5)
	before := r.rec.lastSeq()

	injected, healed := row.fault(r)
	m := measured{detect: -1, recovery: -1, injected: injected, extra: map[string]any{}}
	if r.c.State() != fsm.Closed {
		// Back to normal: open (again, after a drop), and messages
		// flowing both ways.
		if !healed.IsZero() {
			r.waitOpenAfter(before)
		}
		r.waitClientMessages(5)
		r.waitServerMessages(5)
		require.Equal(t, fsm.Open, r.c.State(), "the client left Open again")
	} else {
		_, err := r.rec.waitTransition(r.ctx, before, func(tr fsm.Transition) bool { return tr.To == fsm.Closed })
		require.NoError(t, err)
	}
	m.trs = r.rec.transitionsAfter(before)
	m.events = events(m.trs)

	assert.Regexp(t, row.expect, m.events, "transitions after the fault")
	assert.Equal(t, row.heartbeat, count(m.trs, fsm.EventHeartbeatTimeout) > 0, "did the heartbeat fire? events: %s", m.events)

	for _, tr := range m.trs {
		if tr.From == fsm.Open && tr.Event != fsm.EventClose {
			m.detect = tr.Time.Sub(injected)
			break
		}
	}
	if row.detect > 0 {
		require.GreaterOrEqual(t, m.detect, time.Duration(0), "no transition out of Open")
		assert.LessOrEqual(t, m.detect, row.detect, "detection took longer than the bound")
	}
	if !healed.IsZero() {
		for _, tr := range m.trs {
			if tr.To == fsm.Open && !tr.Time.Before(healed) {
				m.recovery = tr.Time.Sub(healed)
				break
			}
		}
		require.GreaterOrEqual(t, m.recovery, time.Duration(0), "no Open after healing")
		assert.LessOrEqual(t, m.recovery, row.recovery, "recovery took longer than the bound")
	}
	if row.fault != nil && healed.IsZero() && r.c.State() == fsm.Closed {
		closeTr, closedTr := m.trs[0], m.trs[len(m.trs)-1]
		m.recovery = closedTr.Time.Sub(closeTr.Time)
		assert.LessOrEqual(t, m.recovery, row.recovery, "Close took longer than the bound")
		assert.Equal(t, fsm.Closed, r.c.State())
	}

	m.acc = r.finish()
	if row.lossless {
		assert.Zero(t, m.acc.lost, "messages lost under a fault that should lose none")
		assert.Zero(t, m.acc.reported, "messages reported under a fault that should lose none")
		assert.Equal(t, 1, m.acc.opens, "a fault that should not drop the connection")
	}
	if row.check != nil {
		row.check(t, r, m)
	}
	return m
}

func minMax(ds []time.Duration) (lo, hi time.Duration) {
	for i, d := range ds {
		if i == 0 || d < lo {
			lo = d
		}
		hi = max(hi, d)
	}
	return lo, hi
}

// fmtDur prints a measured duration, "-" for none.
func fmtDur(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return d.Round(time.Millisecond).String()
}
