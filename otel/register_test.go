package tetherotel_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	tetherotel "github.com/tether-go/tether/otel"
)

// lateWatchClient is a client whose watcher hears of a transition after
// its trace already holds it: a watcher runs on the machine's actor after
// the transition happened, so Register can read a trace that holds a
// transition its watcher has not heard of yet.
type lateWatchClient struct {
	trace   []fsm.Transition
	watcher tether.Watcher
}

func (c *lateWatchClient) State() fsm.State                { return c.trace[len(c.trace)-1].To }
func (c *lateWatchClient) Trace() []fsm.Transition         { return c.trace }
func (c *lateWatchClient) Stats() tether.Stats             { return tether.Stats{} }
func (c *lateWatchClient) Buffered() (messages, bytes int) { return 0, 0 }
func (c *lateWatchClient) Watch(w tether.Watcher) (stop func()) {
	c.watcher = w
	return func() {}
}

// TestRegisterCountsATransitionOnceWhateverItsWatcherHeard: a transition
// in the trace that the watcher hears of later (here: after Register
// returned) is counted once. Register used to count from the first
// transition its watcher heard of, so when none had arrived yet the trace
// counted it and the watcher counted it again (an outside review saw one
// transition in 25 registrations counted twice on a flapping client).
func TestRegisterCountsATransitionOnceWhateverItsWatcherHeard(t *testing.T) {
	p := newProm(t)
	m, err := tetherotel.New(p.mp)
	require.NoError(t, err)
	connecting := fsm.Transition{Seq: 1, From: fsm.Idle, Event: fsm.EventConnect, To: fsm.Connecting}
	open := fsm.Transition{Seq: 2, From: fsm.Connecting, Event: fsm.EventDialed, To: fsm.Open}
	dropped := fsm.Transition{Seq: 3, From: fsm.Open, Event: fsm.EventDropped, To: fsm.Waiting}
	c := &lateWatchClient{trace: []fsm.Transition{{To: fsm.Idle}, connecting, open}}
	stop, err := m.Register(c, attribute.String("client", "late"))
	require.NoError(t, err)
	defer stop()

	c.watcher.Transition(open)    // in the trace Register read: already counted
	c.watcher.Transition(dropped) // after it: counted now
	s := p.scrape(t)
	late := `client="late"`
	assert.Equal(t, 1.0, sample(t, s, "tether_client_transitions_total", late, `tether_event="dialed"`), "counted once")
	assert.Equal(t, 1.0, sample(t, s, "tether_client_transitions_total", late, `tether_event="connect"`))
	assert.Equal(t, 1.0, sample(t, s, "tether_client_transitions_total", late, `tether_event="dropped"`))
}
