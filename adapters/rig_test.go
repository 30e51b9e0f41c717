package adapters_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// deadline bounds every wait in these tests. It is generous: nothing here
// depends on how fast the machine is, only on events arriving.
const deadline = 10 * time.Second

// rig is a machine with every adapter attached, a memory server and a fake
// clock: the whole reconnect loop with no real time in it.
type rig struct {
	t     *testing.T
	clk   *tethertest.FakeClock
	srv   *memory.Server
	m     *fsm.Machine
	con   *adapters.Connector
	rec   *adapters.Reconnect
	hb    *adapters.Heartbeat
	out   *adapters.Outbox
	sub   *fsm.Subscription
	dials atomic.Int32

	mu    sync.Mutex
	drops []adapters.Drop
	rtts  []time.Duration
	msgs  [][]byte
}

type rigConfig struct {
	policy     policy.Reconnect
	heartbeat  *policy.Heartbeat
	refresh    bool
	outboxOpts []adapters.OutboxOption
	server     []memory.Option
	target     adapters.TargetFunc
	// wrap, when set, wraps the memory transport the Connector dials.
	wrap func(transport.Transport) transport.Transport
}

// noJitter is an exponential policy whose delays are exact: 1s, 2s, 4s...
func noJitter(opts ...policy.Option) policy.Reconnect {
	p, err := policy.New(policy.Exponential{Initial: time.Second, Max: 8 * time.Second, Multiplier: 2,
		Jitter: policy.JitterNone}, append([]policy.Option{policy.WithFloorSpread(0)}, opts...)...)
	if err != nil {
		panic(err)
	}
	return p
}

func newRig(t *testing.T, cfg rigConfig) *rig {
	t.Helper()
	if cfg.policy == nil {
		cfg.policy = noJitter()
	}
	hbCfg := policy.DisabledHeartbeat()
	if cfg.heartbeat != nil {
		hbCfg = *cfg.heartbeat
	}
	r := &rig{t: t, clk: tethertest.NewFakeClock(time.Time{})}
	srv, err := memory.NewServer(append([]memory.Option{memory.WithAutoAccept()}, cfg.server...)...)
	require.NoError(t, err)
	r.srv = srv
	r.m = fsm.New(fsm.WithClock(r.clk))
	r.sub = r.m.Subscribe(context.Background())
	<-r.sub.C() // the Idle snapshot

	r.out = adapters.NewOutbox(r.m, append([]adapters.OutboxOption{adapters.WithDropHook(func(d adapters.Drop) {
		r.mu.Lock()
		r.drops = append(r.drops, d)
		r.mu.Unlock()
	})}, cfg.outboxOpts...)...)
	r.hb, err = adapters.NewHeartbeat(r.m, hbCfg, adapters.WithHeartbeatClock(r.clk),
		adapters.WithRTTHook(func(d time.Duration) {
			r.mu.Lock()
			r.rtts = append(r.rtts, d)
			r.mu.Unlock()
		}))
	require.NoError(t, err)
	r.rec = adapters.NewReconnect(r.m, cfg.policy, adapters.WithReconnectClock(r.clk),
		adapters.WithCredentialsRefresh(cfg.refresh))
	target := cfg.target
	if target == nil {
		target = func(context.Context) (transport.Target, error) {
			n := r.dials.Add(1)
			return transport.Target{URL: "memory://feed", Header: http.Header{"Authorization": {"Bearer t" + itoa(n)}}}, nil
		}
	}
	var tr transport.Transport = srv.Transport()
	if cfg.wrap != nil {
		tr = cfg.wrap(tr)
	}
	r.con = adapters.NewConnector(r.m, tr, target,
		adapters.WithObserver(r.hb), adapters.WithObserver(r.out),
		adapters.WithMessageHandler(func(_ *adapters.Session, m transport.Message) {
			r.mu.Lock()
			r.msgs = append(r.msgs, append([]byte(nil), m.Payload...))
			r.mu.Unlock()
		}))
	t.Cleanup(r.shutdown)
	return r
}

func itoa(n int32) string { return string(rune('0' + n%10)) }

// next returns the next transition.
func (r *rig) next() fsm.Transition {
	r.t.Helper()
	select {
	case tr := <-r.sub.C():
		return tr
	case <-time.After(deadline):
		require.FailNow(r.t, "no transition arrived")
	}
	return fsm.Transition{}
}

// expect reads the next transitions and checks their events in order.
func (r *rig) expect(events ...fsm.Event) fsm.Transition {
	r.t.Helper()
	var tr fsm.Transition
	for _, ev := range events {
		tr = r.next()
		require.Equal(r.t, ev, tr.Event, "got %v", tr)
	}
	return tr
}

// accept returns the server's end of the next connection.
func (r *rig) accept() *memory.ServerConn {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc, err := r.srv.Accept(ctx)
	require.NoError(r.t, err)
	return sc
}

// waitTimers waits until n timers are armed on the fake clock.
func (r *rig) waitTimers(n int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(r.t, r.clk.BlockUntil(ctx, n))
}

func (r *rig) connect() {
	r.t.Helper()
	_, err := r.con.Connect(context.Background())
	require.NoError(r.t, err)
}

func (r *rig) dropped() []adapters.Drop {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]adapters.Drop(nil), r.drops...)
}

// shutdown closes the machine and waits for every adapter: goleak then
// proves nothing was left behind.
func (r *rig) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for st := r.m.State(); st != fsm.Closed; st = r.m.State() {
		if _, err := r.con.Close(ctx, transport.StatusNormalClosure, ""); err != nil {
			r.m.WaitForStateChange(ctx, st) // Closing: wait for the handshake
		}
		if ctx.Err() != nil {
			break
		}
	}
	require.NoError(r.t, r.con.Wait(ctx))
	require.NoError(r.t, r.rec.Wait(ctx))
	require.NoError(r.t, r.hb.Wait(ctx))
	require.NoError(r.t, r.out.Wait(ctx))
	require.NoError(r.t, r.m.Close())
	for range r.sub.C() {
	}
}
