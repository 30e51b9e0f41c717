package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// arrow is how the Mermaid trace draws a transition.
func arrow(from fsm.State, e fsm.Event, to fsm.State, seq string) string {
	return from.String() + "->>" + to.String() + ": " + seq + ". " + e.String() + " at +"
}

func TestTraceForADuration(t *testing.T) {
	srv := newServer(t)
	// The duration is the feature under test; only the output is asserted.
	code, stdout, stderr := runSync(t, "trace", "--for", "1s", "-heartbeat", "0", srv.URL)

	require.Equal(t, exitOK, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "sequenceDiagram\n"), stdout)
	assert.Contains(t, stdout, arrow(fsm.Idle, fsm.EventConnect, fsm.Connecting, "1"))
	assert.Contains(t, stdout, arrow(fsm.Connecting, fsm.EventDialed, fsm.Open, "2"))
	assert.Contains(t, stdout, arrow(fsm.Open, fsm.EventClose, fsm.Closing, "3"))
	assert.Contains(t, stdout, arrow(fsm.Closing, fsm.EventClosed, fsm.Closed, "4"))
	assert.Contains(t, stderr, "[transition] #2 Connecting --dialed--> Open (websocket)")
}

func TestTraceEndsEarlyOnInterrupt(t *testing.T) {
	srv := newServer(t)
	s := start(t, "trace", "-for", "1h", "-heartbeat", "0", "-reconnect", "constant:10ms", srv.URL)
	conn := accept(t, srv)
	s.stderr.waitFor(t, edge(fsm.Connecting, fsm.EventDialed, fsm.Open))

	conn.Drop() // something worth tracing
	s.stderr.waitFor(t, edge(fsm.Connecting, fsm.EventDialed, fsm.Open)+" (attempt 1")
	s.cancel()
	require.Equal(t, exitOK, s.wait(t))
	out := s.stdout.String()
	assert.Contains(t, out, arrow(fsm.Open, fsm.EventDropped, fsm.Waiting, "3"))
	assert.Contains(t, out, arrow(fsm.Waiting, fsm.EventRetry, fsm.Connecting, "4"))
	assert.Contains(t, out, arrow(fsm.Open, fsm.EventClose, fsm.Closing, "6"))
}

func TestTracePrintsTheTraceWhenThePolicyGivesUp(t *testing.T) {
	srv := newServer(t)
	srv.Refuse(403)
	code, stdout, stderr := runSync(t, "trace", "-for", "1h", srv.URL)

	require.Equal(t, exitError, code)
	assert.Contains(t, stdout, arrow(fsm.Waiting, fsm.EventGiveUp, fsm.Closed, "3"))
	assert.Contains(t, stderr, "tether: gave up: ")
}

// trace prints no message, so it consumes none: it read 256 of a busy
// feed, reported them held for a consumer that never came, stopped
// reading, and reported them dropped at the end (new-user review: error
// lines on every healthy run). It reads every message and reports none.
func TestTraceOfABusyFeedReportsNoErrors(t *testing.T) {
	srv := newServer(t)
	s := start(t, "trace", "-for", "1h", "-heartbeat", "0", srv.URL)
	conn := accept(t, srv)
	s.stderr.waitFor(t, edge(fsm.Connecting, fsm.EventDialed, fsm.Open))
	for i := range 1000 {
		require.NoError(t, conn.Send(transport.Text, []byte(strconv.Itoa(i))))
	}
	require.NoError(t, conn.Close(transport.StatusGoingAway, "done")) // behind the messages
	s.stderr.waitFor(t, edge(fsm.Open, fsm.EventDropped, fsm.Waiting))
	s.cancel()
	require.Equal(t, exitOK, s.wait(t))
	assert.NotContains(t, s.stderr.String(), "[error]")
}
