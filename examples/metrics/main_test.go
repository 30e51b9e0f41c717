package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/fsm"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMetrics runs the program against its embedded server, in real time:
// WebSocket, then blocked (polling delivers), then restored (WebSocket
// again), and checks the transport of each phase from the Open transition
// of the connection that carried it, and that the sequence numbers have no
// gap and no duplicate across the switches.
func TestMetrics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := demo(ctx, &out)
	require.NoError(t, err, out.String())

	require.Len(t, res.Phases, 3)
	for i, want := range []string{"websocket", "polling", "websocket"} {
		p := res.Phases[i]
		assert.Equal(t, fsm.Open, p.Conn.Open.To, "phase %s", p.Name)
		assert.Equal(t, want, p.Conn.Open.Transport, "phase %s", p.Name)
		assert.GreaterOrEqual(t, len(p.Conn.Seqs), perPhase, "phase %s", p.Name)
	}
	// The phases happened in that order.
	assert.Less(t, res.Phases[0].Conn.Open.Seq, res.Phases[1].Conn.Open.Seq)
	assert.Less(t, res.Phases[1].Conn.Open.Seq, res.Phases[2].Conn.Open.Seq)

	// No gap, no duplicate: exactly 1, 2, ..., n in arrival order.
	require.NotEmpty(t, res.Seqs)
	for i, s := range res.Seqs {
		require.Equal(t, uint64(i+1), s, "position %d", i+1)
	}
	// Every connection resumed where the previous one stopped.
	var next uint64 = 1
	for _, c := range res.Conns {
		if len(c.Seqs) > 0 {
			assert.Equal(t, next, c.Seqs[0], "connection #%d over %s", c.Open.Seq, c.Open.Transport)
			next = c.Seqs[len(c.Seqs)-1] + 1
		}
	}

	// The trace records both switches: a polling Open after a websocket
	// one, and a websocket Open after that.
	var opens []string
	for _, tr := range res.Trace {
		if tr.To == fsm.Open {
			opens = append(opens, tr.Transport)
		}
	}
	assert.Subset(t, opens, []string{"websocket", "polling"})
	assert.Equal(t, "websocket", opens[0])
	assert.Equal(t, "websocket", opens[len(opens)-1])

	s := out.String()
	for _, want := range []string{
		"switch     websocket -> polling (websocket refused with HTTP 403)",
		"switch     polling -> websocket",
		"websocket connection, resuming after #",
		"no gap, no duplicate",
		"sequenceDiagram",
	} {
		assert.Contains(t, s, want)
	}
	assert.Less(t, strings.Index(s, "websocket -> polling"), strings.Index(s, "polling -> websocket"))
}

// TestCheckSequence shows the gap and duplicate check can fail.
func TestCheckSequence(t *testing.T) {
	assert.NoError(t, checkSequence([]uint64{1, 2, 3}))
	assert.ErrorIs(t, checkSequence([]uint64{1, 3}), ErrSequence)
	assert.ErrorIs(t, checkSequence([]uint64{1, 2, 2, 3}), ErrSequence)
}
