package inspect_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// deadline bounds every wait: the tests wait for events, they do not
// measure time.
const deadline = 10 * time.Second

// rig is a memory server and a fake clock for clients under inspection.
type rig struct {
	t   *testing.T
	srv *memory.Server
	clk *tethertest.FakeClock
}

func newRig(t *testing.T) *rig {
	t.Helper()
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	return &rig{t: t, srv: srv, clk: tethertest.NewFakeClock(time.Time{})}
}

// client builds a client that reconnects after 1 s, 2 s, 4 s... on the fake
// clock, and closes it when the test ends.
func (r *rig) client(opts ...tether.Option) *tether.Client[string] {
	r.t.Helper()
	p, err := policy.New(policy.Exponential{Initial: time.Second, Max: 8 * time.Second, Multiplier: 2,
		Jitter: policy.JitterNone}, policy.WithFloorSpread(0))
	require.NoError(r.t, err)
	base := []tether.Option{tether.WithTransport(r.srv.Transport()), tether.WithClock(r.clk),
		tether.WithoutHeartbeat(), tether.WithReconnect(p), tether.OnRaw(func(transport.Message) {})}
	c, err := tether.New[string]("memory://feed", append(base, opts...)...)
	require.NoError(r.t, err)
	r.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		require.NoError(r.t, c.Close(ctx))
	})
	return c
}

func (r *rig) accept() *memory.ServerConn {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc, err := r.srv.Accept(ctx)
	require.NoError(r.t, err)
	return sc
}

// retry steps the fake clock to the reconnect c scheduled after it was
// dropped (firing any other timer due before it, a drop report's say).
// The decision is made before the transition to Waiting is published:
// once Stats (or the page) show Waiting, they have the retry. The timer
// is armed just after, by the reconnect adapter's own hook: wait for it.
func (r *rig) retry(c *tether.Client[string]) {
	r.t.Helper()
	st := waitStats(r.t, c, fsm.Waiting)
	require.False(r.t, st.NextRetryAt.IsZero(), "no retry scheduled")
	want := st.NextRetryAt.Sub(r.clk.Now())
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(r.t, r.clk.BlockUntil(ctx, 1), "the retry timer is never armed")
	require.Contains(r.t, r.clk.Pending(), want, "the retry timer is armed")
	r.clk.Step(want)
}

// waitStats waits until c's Stats say it is in state s, and returns them.
// State reads a new state a moment before Stats do (the machine moves
// first); WaitForStateChange returns once they do.
func waitStats(t *testing.T, c *tether.Client[string], s fsm.State) tether.Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	st := c.Stats()
	for ; st.State != s; st = c.Stats() {
		require.True(t, c.WaitForStateChange(ctx, st.State), "still %s, waiting for %s", st.State, s)
	}
	return st
}

func waitState(t *testing.T, c *tether.Client[string], s fsm.State) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for st := c.State(); st != s; st = c.State() {
		require.True(t, c.WaitForStateChange(ctx, st), "still %s, waiting for %s", st, s)
	}
}

// event is one server-sent event.
type event struct {
	name string
	data string
}

// page reads a page's event stream as a browser would.
type page struct {
	t      *testing.T
	events chan event
	cancel context.CancelFunc
	done   chan struct{}
}

func openPage(t *testing.T, url string) *page {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	p := &page{t: t, events: make(chan event), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					select {
					case p.events <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = event{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *page) close() {
	p.cancel()
	<-p.done
}

// next waits for the next event named name, skipping others, and decodes
// its data into v.
func (p *page) next(name string, v any) {
	p.t.Helper()
	timeout := time.After(deadline)
	for {
		select {
		case ev := <-p.events:
			if ev.name != name {
				continue
			}
			require.NoError(p.t, json.Unmarshal([]byte(ev.data), v), ev.data)
			return
		case <-timeout:
			require.FailNow(p.t, "no "+name+" event")
		}
	}
}

// until reads events named name until ok accepts one.
func until[V any](p *page, name string, ok func(V) bool) V {
	p.t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		var v V
		p.next(name, &v)
		if ok(v) {
			return v
		}
	}
	require.FailNow(p.t, "no matching "+name+" event")
	var zero V
	return zero
}
