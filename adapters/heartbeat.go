package adapters

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

// Heartbeat is the heartbeat adapter, an [InboundObserver] of the [Connector]. While
// a session is open it probes the peer every Interval (a ping frame or an
// application message) and expects a sign of life within PongTimeout. Anything
// received counts as one: any frame, and with a Conn that reports its
// progress (see [transport.ProgressReporter]) any byte, so a large message
// still arriving keeps the connection alive. If nothing comes, it fires
// heartbeat_timeout with cause [ErrHeartbeatTimeout]: a failure, so the
// reconnect policy runs.
//
// Only a reader waiting for the network can find the peer silent. While the
// reader is busy elsewhere (a consumer is slow to take a message, a
// callback blocks), the answer may be waiting unread: the deadline passes
// without a verdict, and the next probe asks again. A slow consumer is not
// a dead peer.
//
// The answer to a probe (a pong, or what the PongMatcher recognises) gives
// the round-trip time, published through RTT and the OnRTT callback, and
// confirms to the outbox every message written before the probe.
//
// It runs on clock timers only: no goroutine while idle. All methods are
// safe for concurrent use.
type Heartbeat struct {
	m     *fsm.Machine
	cfg   policy.Heartbeat
	clk   clock.Clock
	onRTT func(time.Duration)
	onErr func(error)

	rtt     atomic.Int64
	noPing  atomic.Bool // ErrCannotPing was reported (once per adapter)
	noProbe atomic.Bool // ErrBadProbe was reported (once per adapter)
	cur     atomic.Pointer[beat]
	wg      sync.WaitGroup
}

// beat is the heartbeat state of one session.
type beat struct {
	s *Session

	mu          sync.Mutex
	ended       bool
	outstanding bool
	probeID     uint64 // numbers probes, so a late deadline cannot judge a newer one
	sentAt      time.Time
	seenAtProbe uint64 // the reader's progress when the probe went out
	markAtProbe uint64
	tag         atomic.Pointer[[]byte] // the outstanding ping's payload, read by the reader
	tick        clock.Timer
	deadline    clock.Timer
}

// HeartbeatOption configures a Heartbeat.
type HeartbeatOption interface{ applyHeartbeat(*Heartbeat) }

type heartbeatOption func(*Heartbeat)

func (f heartbeatOption) applyHeartbeat(h *Heartbeat) { f(h) }

// WithHeartbeatClock sets the clock the probes run on. Default: real.
func WithHeartbeatClock(c clock.Clock) HeartbeatOption {
	return heartbeatOption(func(h *Heartbeat) { h.clk = clock.OrReal(c) })
}

// WithRTTHook sets a function called with every measured round trip, on the
// goroutine that read the answer. It must not block.
func WithRTTHook(f func(time.Duration)) HeartbeatOption {
	return heartbeatOption(func(h *Heartbeat) { h.onRTT = f })
}

// WithHeartbeatErrorHook sets a function told of problems that are not a
// connection's failure: [ErrCannotPing] and [ErrBadProbe], each once. It runs on a timer
// goroutine and must not block.
func WithHeartbeatErrorHook(f func(error)) HeartbeatOption {
	return heartbeatOption(func(h *Heartbeat) { h.onErr = f })
}

// NewHeartbeat returns the heartbeat adapter for m with the settings cfg,
// which must be valid (see policy.Heartbeat.Validate). Hand it to the
// Connector with WithObserver. Disabled settings make an adapter that does
// nothing.
func NewHeartbeat(m *fsm.Machine, cfg policy.Heartbeat, opts ...HeartbeatOption) (*Heartbeat, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Heartbeat{m: m, cfg: cfg, clk: clock.Real()}
	for _, o := range opts {
		o.applyHeartbeat(h)
	}
	return h, nil
}

// RTT returns the latest measured round-trip time, or 0 before the first.
func (h *Heartbeat) RTT() time.Duration { return time.Duration(h.rtt.Load()) }

// Wait blocks until no probe or timer callback is running, or ctx ends.
func (h *Heartbeat) Wait(ctx context.Context) error {
	return waitGroup(ctx, &h.wg)
}

// Opened starts probing s. Part of [Observer].
func (h *Heartbeat) Opened(s *Session) {
	if !h.cfg.Enabled() {
		return
	}
	b := &beat{s: s}
	h.cur.Store(b)
	b.mu.Lock()
	b.tick = h.afterFunc(h.cfg.Interval, func() { h.probe(b) })
	b.mu.Unlock()
}

// Inbound recognises answers. Part of [InboundObserver].
func (h *Heartbeat) Inbound(s *Session, m transport.Message) {
	b := h.cur.Load()
	if b == nil || b.s != s {
		return
	}
	if h.isAnswer(b, m) {
		h.answered(b)
	}
}

// ControlOnly reports whether the heartbeat needs no data messages: with
// pings (or off), only pongs answer it. Part of [ControlObserver].
func (h *Heartbeat) ControlOnly() bool {
	return !h.cfg.Enabled() || h.cfg.Mode == policy.PingFrame
}

// Ended stops probing s. Part of [Observer].
func (h *Heartbeat) Ended(s *Session, _ fsm.Transition) {
	b := h.cur.Load()
	if b == nil || b.s != s {
		return
	}
	h.cur.CompareAndSwap(b, nil)
	b.mu.Lock()
	b.ended = true
	h.stop(b.tick)
	h.stop(b.deadline)
	b.mu.Unlock()
}

// isAnswer reports whether m answers b's outstanding probe. A pong answers
// only the ping it echoes: pings carry the probe's number, so a late pong
// for an earlier ping is a sign of life, not an answer.
func (h *Heartbeat) isAnswer(b *beat, m transport.Message) bool {
	if h.cfg.Mode == policy.PingFrame {
		if m.Type != transport.Pong {
			return false
		}
		want := b.tag.Load()
		return want != nil && bytes.Equal(m.Payload, *want)
	}
	if h.cfg.PongMatcher != nil {
		return h.cfg.PongMatcher(m)
	}
	return true // without a matcher the first frame after a probe answers it
}

// probe sends one probe and arms its deadline. It runs on a timer goroutine.
func (h *Heartbeat) probe(b *beat) {
	b.mu.Lock()
	if b.ended {
		b.mu.Unlock()
		return
	}
	b.outstanding = true
	b.probeID++
	id := b.probeID
	var tag []byte // the ping's payload, which its pong echoes
	if h.cfg.Mode == policy.PingFrame {
		tag = pingTag(h.cfg.Message, id)
		b.tag.Store(&tag)
	}
	b.sentAt = h.clk.Now()
	b.seenAtProbe, _ = b.s.ReadProgress()
	b.markAtProbe = b.s.WriteMark()
	h.stop(b.deadline)
	b.deadline = h.afterFunc(h.cfg.PongTimeout, func() { h.expire(b, id) })
	b.tick = h.afterFunc(h.cfg.Interval, func() { h.probe(b) })
	b.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.PongTimeout)
	defer cancel()
	if tag != nil {
		if err := b.s.Conn.Ping(ctx, tag); errors.Is(err, transport.ErrUnsupported) {
			h.cannotProbe(b, fmt.Errorf("%w (%s: %w)", ErrCannotPing, b.s.Transport, err), &h.noPing)
		}
	} else {
		payload, typ := h.cfg.Probe()
		if err := policy.CheckProbe(payload, typ); err != nil {
			h.cannotProbe(b, fmt.Errorf("%w: %w", ErrBadProbe, err), &h.noProbe)
		} else if err := b.s.Conn.Write(ctx, typ, payload); errors.Is(err, transport.ErrUnsupported) {
			h.cannotProbe(b, fmt.Errorf("%w (%s: %w)", ErrBadProbe, b.s.Transport, err), &h.noProbe)
		}
	}
	// Any other failed probe needs no action here: the connection is
	// failing, the reader reports it, or the deadline fires.
}

// cannotProbe stops probing b's session, whose probe cannot be sent (a
// deadline would declare a live peer dead), and reports err once: the
// first time reported is set.
func (h *Heartbeat) cannotProbe(b *beat, err error, reported *atomic.Bool) {
	b.mu.Lock()
	b.ended = true
	h.stop(b.tick)
	h.stop(b.deadline)
	b.mu.Unlock()
	if h.onErr != nil && reported.CompareAndSwap(false, true) {
		h.onErr(err)
	}
}

// answered handles the answer to the outstanding probe.
func (h *Heartbeat) answered(b *beat) {
	b.mu.Lock()
	if !b.outstanding || b.ended {
		b.mu.Unlock()
		return
	}
	b.outstanding = false
	rtt := h.clk.Since(b.sentAt)
	h.stop(b.deadline)
	b.deadline = nil
	mark := b.markAtProbe
	b.mu.Unlock()

	if h.cfg.Mode == policy.PingFrame {
		// Frames are ordered: the pong of a ping proves the peer read
		// everything written before it. An application answer proves
		// nothing of the kind (the peer may have sent it before reading
		// the probe), so it gives a round trip but confirms nothing.
		b.s.Confirm(mark)
	}
	h.rtt.Store(int64(rtt))
	if h.onRTT != nil {
		h.onRTT(rtt)
	}
}

// expire runs when the pong timeout of a probe has passed.
func (h *Heartbeat) expire(b *beat, id uint64) {
	b.mu.Lock()
	if b.ended || !b.outstanding || id != b.probeID {
		b.mu.Unlock()
		return
	}
	b.outstanding = false
	received, waiting := b.s.ReadProgress()
	atProbe := b.seenAtProbe
	b.mu.Unlock()
	if received != atProbe {
		return // something arrived, just not the answer: the peer lives
	}
	if !waiting {
		// The reader is not waiting for the network: it is busy handing a
		// message on, and the answer may be waiting behind it. No verdict.
		return
	}
	if b.s.Conn.Err() != nil {
		// The connection has already ended or is being failed (a close
		// with 1009 on its way, say): that is the cause, and the reader
		// reports it. A timeout now would relabel it.
		return
	}
	// The socket is dropped without a close frame (see Connector): the
	// transition carries 1006, as OnClose documents.
	_, _ = h.m.Fire(context.Background(), fsm.Input{
		Event: fsm.EventHeartbeatTimeout, Cause: ErrHeartbeatTimeout, Epoch: b.s.Epoch,
		CloseCode: uint16(transport.StatusAbnormalClosure),
	})
}

// pingTag is the payload of probe id: the configured payload (at most
// policy.MaxPingMessage bytes, as Validate checks) followed by the probe's
// number, so its pong names the probe it answers.
func pingTag(base []byte, id uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(base)+8), base...), id)
}

// afterFunc arms a timer whose callback the WaitGroup tracks.
func (h *Heartbeat) afterFunc(d time.Duration, f func()) clock.Timer {
	h.wg.Add(1)
	return h.clk.AfterFunc(d, func() {
		defer h.wg.Done()
		f()
	})
}

// stop stops a timer armed by afterFunc, releasing its WaitGroup slot when
// the callback will not run.
func (h *Heartbeat) stop(t clock.Timer) {
	if t != nil && t.Stop() {
		h.wg.Done()
	}
}
