package inspect_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/inspect"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport/memory"
)

// TestViewShowsWaitingWithItsRetry: the page never shows a client Waiting
// without the retry scheduled. The test holds the machine's actor in a
// Watcher while the client reacts to a drop (the transition is already
// published, State already reads Waiting) and reads the snapshot then.
func TestViewShowsWaitingWithItsRetry(t *testing.T) {
	r := newRig(t)
	c := r.client()
	holds := make(chan chan struct{})
	stop := c.Watch(tether.Watcher{Transition: func(tr fsm.Transition) {
		if tr.To != fsm.Waiting {
			return
		}
		release := make(chan struct{})
		select {
		case holds <- release:
		case <-time.After(deadline):
			return
		}
		select {
		case <-release:
		case <-time.After(deadline):
		}
	}})
	defer stop()
	sc := r.accept()
	waitState(t, c, fsm.Open)
	in := inspect.New()
	in.Add("feed", c)
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)

	sc.Drop()
	var release chan struct{}
	select {
	case release = <-holds:
	case <-time.After(deadline):
		require.FailNow(t, "the client never reacted to the drop")
	}
	_, body := get(t, srv.URL+"/snapshot.json")
	close(release)
	var snap inspect.Snapshot
	require.NoError(t, json.Unmarshal([]byte(body), &snap))
	require.Len(t, snap.Clients, 1)
	st := snap.Clients[0].Stats
	if st.State == "Waiting" {
		assert.Equal(t, 1, st.NextRetry, "Waiting with its retry: %+v", st)
		assert.InDelta(t, 1000, st.NextRetryMillis, 0.001)
		assert.False(t, st.NextRetryAt.IsZero())
	}
	assert.Equal(t, "Waiting", st.State, "State reads Waiting while the actor is held")
	r.retry(c)
	r.accept()
	waitState(t, c, fsm.Open)
}

// TestPageShowsTheScheduleAhead: while a client waits, its view carries
// the attempts that would follow the next one, with the interval of each
// random delay, and why the policy would give up after them; a policy that
// cannot preview shows none.
func TestPageShowsTheScheduleAhead(t *testing.T) {
	r := newRig(t)
	exact := r.client() // 1 s, 2 s, 4 s, 8 s, 8 s... with no jitter and no cap
	jittered, err := policy.New(policy.Exponential{Initial: time.Second, Max: 8 * time.Second, Multiplier: 2},
		policy.WithMaxAttempts(3))
	require.NoError(t, err)
	capped := r.client(tether.WithReconnect(jittered))
	custom := r.client(tether.WithReconnect(policy.Func(func(policy.RetryContext) policy.Decision {
		return policy.Decision{Delay: time.Second}
	})))
	in := inspect.New()
	in.Add("exact", exact)
	in.Add("capped", capped)
	in.Add("custom", custom)
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	var conns []*memory.ServerConn
	for range 3 {
		conns = append(conns, r.accept())
	}
	for _, c := range []*tether.Client[string]{exact, capped, custom} {
		waitState(t, c, fsm.Open)
	}
	for _, sc := range conns {
		sc.Drop()
	}
	for _, c := range []*tether.Client[string]{exact, capped, custom} {
		waitStats(t, c, fsm.Waiting)
	}

	_, body := get(t, srv.URL+"/snapshot.json")
	var snap inspect.Snapshot
	require.NoError(t, json.Unmarshal([]byte(body), &snap))
	require.Len(t, snap.Clients, 3)
	views := map[string]inspect.StatsView{}
	for _, cv := range snap.Clients {
		require.Equal(t, "Waiting", cv.Stats.State, cv.Name)
		require.Equal(t, 1, cv.Stats.NextRetry, cv.Name)
		views[cv.Name] = cv.Stats
	}
	assert.Equal(t, []inspect.StepView{{2, 2000, 2000}, {3, 4000, 4000}, {4, 8000, 8000}, {5, 8000, 8000}, {6, 8000, 8000}},
		views["exact"].Ahead)
	assert.Empty(t, views["exact"].AheadStop, "the policy goes on")
	assert.Equal(t, []inspect.StepView{{2, 1000, 2000}, {3, 2000, 4000}}, views["capped"].Ahead,
		"equal jitter: each delay as the interval it is drawn from")
	assert.Equal(t, "reconnect stopped by max-attempts before attempt 4: reconnect attempts exhausted",
		views["capped"].AheadStop)
	assert.Empty(t, views["custom"].Ahead, "a policy.Func cannot preview")
	assert.Empty(t, views["custom"].AheadStop)
	assert.NotContains(t, body, `"ahead":null`)
}

// TestTransitionCarriesItsRetry: the "transition" event to Waiting carries
// the retry with it (the state and retry its Stats held), so the page shows
// Waiting and its retry together; the counters come only every hour here.
func TestTransitionCarriesItsRetry(t *testing.T) {
	r := newRig(t)
	c := r.client()
	sc := r.accept()
	waitState(t, c, fsm.Open)
	in := inspect.New(inspect.WithInterval(time.Hour))
	in.Add("feed", c)
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	p := openPage(t, srv.URL+"/events")
	var hello inspect.Snapshot
	p.next("hello", &hello)

	sc.Drop()
	ev := until(p, "transition", func(v inspect.TransitionEvent) bool { return v.To == "Waiting" })
	assert.Equal(t, "dropped", ev.Event)
	assert.Equal(t, "Waiting", ev.Now.State)
	assert.Equal(t, 1, ev.Now.NextRetry)
	assert.InDelta(t, 1000, ev.Now.NextRetryMillis, 0.001)
	assert.Equal(t, r.clk.Now().Add(time.Second), ev.Now.NextRetryAt)
	assert.Equal(t, []inspect.StepView{{2, 2000, 2000}, {3, 4000, 4000}, {4, 8000, 8000}, {5, 8000, 8000}, {6, 8000, 8000}},
		ev.Now.Ahead)

	r.retry(c)
	ev = until(p, "transition", func(v inspect.TransitionEvent) bool { return v.Event == "retry" })
	assert.NotEqual(t, "Waiting", ev.Now.State)
	assert.Zero(t, ev.Now.NextRetry, "no retry ahead once it dials")
	r.accept()
	waitState(t, c, fsm.Open)
}
