package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestAuth runs the program against its embedded server, in real time: the
// expired token fails the stage (a *tether.StageError wrapping errRefused,
// to Waiting), the fresh one passes it, the connection is ready only after
// Authenticating every time (also after the drop), the alert sent before
// any connection reaches the server only after a token it accepted, and
// every price arrives.
func TestAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := demo(ctx, &out)
	require.NoError(t, err, out.String())

	var path []string
	for _, tr := range res.Transitions[1:] {
		path = append(path, tr.From.String()+" -"+tr.Event.String()+"-> "+tr.To.String())
		if tr.To == fsm.Open {
			assert.Equal(t, Authenticating, tr.From, "Open comes only after the stage")
		}
	}
	assert.Equal(t, []string{
		"Idle -connect-> Connecting",
		"Connecting -dialed-> Authenticating",
		"Authenticating -stage_failed-> Waiting",
		"Waiting -retry-> Connecting",
		"Connecting -dialed-> Authenticating",
		"Authenticating -stage_done-> Open",
		"Open -dropped-> Waiting",
		"Waiting -retry-> Connecting",
		"Connecting -dialed-> Authenticating",
		"Authenticating -stage_done-> Open",
		"Open -close-> Closing",
		"Closing -closed-> Closed",
	}, path)
	var se *tether.StageError
	require.ErrorAs(t, res.Transitions[3].Cause, &se)
	assert.Equal(t, Authenticating, se.Stage)
	require.ErrorIs(t, se, errRefused)

	require.Len(t, res.Prices, wantPrices)
	assert.Equal(t, []string{"token expired-token", "token fresh-token", "alert BTC 100", "token fresh-token"},
		res.Server, "the alert waited for an accepted token")
	assert.Contains(t, res.Diagram, "Authenticating --> Open: stage_done")
}
