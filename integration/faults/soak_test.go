package faults

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
)

// Soak sizes. TETHER_SOAK=long runs the long mode.
const (
	soakShort = 20
	soakLong  = 200
	// soakWarmup is the cycle whose goroutine count and heap are the
	// baseline: by then every pool and buffer has reached its working size.
	soakWarmup = 5
	// soakGoroutineSlack bounds how many more goroutines than at the
	// baseline may run at the last cycle. Between two settled points the
	// count varies by a few (heartbeat and reconnect timer callbacks that
	// are running, a server handler finishing); a leak of one goroutine per
	// cycle exceeds it within the short mode's 15 measured cycles.
	soakGoroutineSlack = 8
	// soakHeapSlack plus soakHeapPerMessage for every message the client
	// sent between the two measurements bounds the growth of the live heap
	// (after GC) from cycle soakWarmup to the last cycle. The test keeps
	// records of its own, about 50 bytes per message (what was sent, what
	// arrived and when, how each drop was reported) and a few transitions
	// per cycle; the per-message term covers them. The goroutine bound is
	// the sharp leak detector (a leaked connection leaves its reader
	// goroutine behind); this one catches leaked buffers: a leak of 8 KiB
	// per cycle (one connection's read and write buffers) exceeds it over
	// the long mode's 195 measured cycles, though not over the short mode's
	// 15.
	soakHeapSlack      = 1 << 20
	soakHeapPerMessage = 96
	// soakCycleBudget is added to the test's deadline per cycle (a cycle
	// takes about 0.35 s here).
	soakCycleBudget = 3 * time.Second
)

// TestRestartSoak (issue 8): the server is killed (every connection dropped
// without a close frame, the listener closed) and restarted, on a new port
// behind the same proxy address, soakShort times (soakLong with
// TETHER_SOAK=long), while the client sends a message every 5 ms and the
// server one every 10 ms. It asserts:
//
//   - every message sent while the client was not Open arrives at the
//     server exactly once, and everything arrives in send order;
//   - every message in flight at a drop arrives or is reported as
//     possibly lost (in a *tether.PossiblyLostError), and
//     no other drop reason appears;
//   - one reconnect per restart: exactly one Open per cycle;
//   - the goroutine count at the last cycle is within soakGoroutineSlack
//     of the count at cycle soakWarmup, and the live heap has grown by less
//     than soakHeapSlack + soakHeapPerMessage per message sent in between,
//     both measured at a settled point of the cycle (open, buffer flushed)
//     after runtime.GC.
func TestRestartSoak(t *testing.T) {
	cycles := soakShort
	if strings.EqualFold(os.Getenv("TETHER_SOAK"), "long") {
		cycles = soakLong
	}
	r := newRig(t, rigOptions{clientEvery: 5 * time.Millisecond, serverEvery: 10 * time.Millisecond,
		budget: deadline + time.Duration(cycles)*soakCycleBudget})
	r.connect()
	r.snd.run(r.ctx)

	var (
		baseG, lastG     int
		baseHeap, lastHp uint64
		baseSent, lastSt int
		minG, maxG       int
		reconnects       []time.Duration
	)
	for cycle := 1; cycle <= cycles; cycle++ {
		r.settle(cycle)
		g, heap := measure()
		if cycle == soakWarmup {
			baseG, baseHeap, baseSent, minG, maxG = g, heap, r.snd.sent(), g, g
		}
		if cycle > soakWarmup {
			minG, maxG = min(minG, g), max(maxG, g)
		}
		lastG, lastHp, lastSt = g, heap, r.snd.sent()

		before := r.rec.lastSeq()
		r.srv.kill()
		drop, err := r.rec.waitTransition(r.ctx, before, func(tr fsm.Transition) bool { return tr.From == fsm.Open })
		require.NoError(t, err, "cycle %d: the client did not see the server die", cycle)
		require.Equal(t, fsm.EventDropped, drop.Event, "cycle %d: %s", cycle, drop)
		// Some messages must be sent while disconnected in every cycle.
		disc := r.disconnectedSends()
		require.NoError(t, r.bell.until(r.ctx, func() bool { return r.disconnectedSends() >= disc+3 }),
			"cycle %d: nothing sent while disconnected", cycle)
		r.px.setUpstream(r.srv.start())
		open := r.waitOpenAfter(drop.Seq)
		reconnects = append(reconnects, open.Time.Sub(drop.Time))
		trs := r.rec.transitionsAfter(before)
		assert.Regexp(t, `^`+dropCycle+`$`, events(trs), "cycle %d: one drop, one reconnect", cycle)
	}
	r.settle(cycles + 1)
	acc := r.finish()

	all := r.rec.transitionsAfter(0)
	assert.Equal(t, cycles+1, count(all, fsm.EventDialed), "one Open per cycle, and the first")
	assert.Equal(t, cycles, count(all, fsm.EventDropped))
	assert.Zero(t, count(all, fsm.EventHeartbeatTimeout), "a killed server is a reset or EOF, not silence")
	assert.Zero(t, acc.sendErrKind["ErrClosed"]+acc.sendErrKind["ctx"], "Send refused messages before the end")
	assert.Positive(t, acc.disconnected)

	// Every message sent while disconnected arrived (exactly once and in
	// order: finish checked that for every message that arrived).
	snap := r.srv.snapshot()
	got := make(map[int]bool, len(snap.got))
	for _, q := range snap.got {
		got[q] = true
	}
	for i, s := range r.snd.records() {
		if s.disconnected {
			assert.True(t, got[i+1], "message %d, sent while disconnected, never arrived", i+1)
		}
	}
	kinds := r.rec.dropKinds()
	assert.Equal(t, acc.reported, kinds[possiblyLost], "drop reasons other than possibly lost: %v", kinds)
	assert.LessOrEqual(t, lastG, baseG+soakGoroutineSlack, "goroutines grew from %d (cycle %d) to %d", baseG, soakWarmup, lastG)
	growth := int64(lastHp) - int64(baseHeap)
	heapBound := int64(soakHeapSlack + soakHeapPerMessage*(lastSt-baseSent))
	assert.Less(t, growth, heapBound, "heap grew by %d bytes from cycle %d (bound %d)", growth, soakWarmup, heapBound)
	lo, hi := minMax(reconnects)
	t.Logf("RESULT soak: %d cycles; reconnect after drop min %v max %v; goroutines at cycle %d: %d, at the last: %d (range %d..%d); "+
		"heap at cycle %d: %.2f MiB, at the last: %.2f MiB (growth %+.2f MiB, bound %.2f MiB over %d messages); %v",
		cycles, lo.Round(time.Millisecond), hi.Round(time.Millisecond), soakWarmup, baseG, lastG, minG, maxG,
		soakWarmup, mib(baseHeap), mib(lastHp), float64(growth)/(1<<20), float64(heapBound)/(1<<20), lastSt-baseSent, acc)
}

// settle waits until the client is open, every message it sent while
// disconnected so far has arrived at the server (so the outbound buffer
// has been flushed), and the connection has carried traffic both ways for
// longer than minUptime (25 messages at 5 ms), so the next loss starts a
// fresh backoff streak.
func (r *rig) settle(cycle int) {
	r.t.Helper()
	require.NoError(r.t, r.bell.until(r.ctx, func() bool { return r.c.State() == fsm.Open }), "cycle %d: not open", cycle)
	recs := r.snd.records()
	require.NoError(r.t, r.bell.until(r.ctx, func() bool {
		for i, s := range recs {
			if s.disconnected && s.err == nil && !r.srv.has(i+1) {
				return false
			}
		}
		return true
	}), "cycle %d: messages sent while disconnected did not arrive", cycle)
	r.waitClientMessages(25)
	r.waitServerMessages(10)
}

// disconnectedSends counts the messages sent while not Open.
func (r *rig) disconnectedSends() int {
	n := 0
	for _, s := range r.snd.records() {
		if s.disconnected {
			n++
		}
	}
	return n
}

// measure returns the goroutine count and the live heap after a GC.
func measure() (goroutines int, heap uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
