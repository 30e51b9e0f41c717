package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestNotifications runs the program against its embedded server, in real
// time, and checks that every unique notification of the script came out of
// the pipeline exactly once, in the order first sent, although the script
// sends repeats; and that the feed ended by the server's normal closure,
// which this client's policy treats as final.
func TestNotifications(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := demo(ctx, &out)
	require.NoError(t, err, out.String())

	// What the script sends, repeats included, and its unique IDs in the
	// order first sent.
	var sent int
	var want []string
	seen := map[string]bool{}
	for _, conn := range script {
		for _, id := range conn {
			sent++
			if !seen[id] {
				seen[id] = true
				want = append(want, id)
			}
		}
	}
	require.Greater(t, sent, len(want), "the script must send repeats for the test to mean anything")

	var got []string
	for _, b := range res.Batches {
		assert.NotEmpty(t, b, "a batch is never empty")
		for _, n := range b {
			got = append(got, n.ID)
			assert.Equal(t, catalog[n.ID], n)
		}
	}
	assert.Equal(t, want, got, "every unique notification once, in order")
	assert.Equal(t, sent, res.Received, "the client received the repeats too: the pipeline removed them")

	assert.Equal(t, fsm.Closed, res.End.To)
	assert.Equal(t, fsm.EventGiveUp, res.End.Event)
	var stop *policy.StopError
	require.ErrorAs(t, res.End.Cause, &stop)
	assert.ErrorIs(t, res.End.Cause, policy.ErrTerminalCloseCode)
	assert.Equal(t, transport.StatusNormalClosure, stop.CloseCode)

	assert.Contains(t, out.String(), "repeats dropped")
	assert.Contains(t, out.String(), "batch      1: ")
}
