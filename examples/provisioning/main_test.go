package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/rpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestProvisioning runs the program against its embedded server, in real
// time, and checks each job's subscription: it held only that job's
// updates, each once and in order (seq 1, 2, ...), the same as the
// server's record, across the drop; queued first, never going back, one
// terminal status at the end, the one the plan leads to; nothing after
// it; and the subscription ended Unsubscribed, made again in the
// Resubscribing stage before the second connection was ready if it was
// live at the drop.
func TestProvisioning(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := demo(ctx, &out)
	require.NoError(t, err, out.String())
	require.Len(t, res.Jobs, len(requests))

	want := map[string]Status{"web-1": Succeeded, "db-1": Failed, "cache-1": Succeeded}
	for i, h := range res.Jobs {
		req := requests[i]
		require.Equal(t, req.Job, h.Job)
		p := plans[req.Template]
		// queued, one running update per step, the terminal one; no
		// update lost or kept twice: the server's record, exactly.
		require.Len(t, h.Updates, len(p.steps)+2, "job %s: %v", h.Job, h.Updates)
		assert.Equal(t, h.Server, h.Updates, "job %s: what the watcher kept is what the server sent", h.Job)
		assert.Empty(t, h.After, "job %s: nothing after the terminal update", h.Job)
		assert.Equal(t, Queued, h.Updates[0].Status, "job %s starts queued", h.Job)
		last := h.Updates[len(h.Updates)-1]
		assert.Equal(t, want[h.Job], last.Status, "job %s ends", h.Job)
		if last.Status == Failed {
			assert.Equal(t, p.fail, last.Detail)
		}
		progress := -1
		for j, u := range h.Updates {
			assert.Equal(t, h.Job, u.Job, "a job's subscription holds only its own updates")
			assert.Equal(t, j+1, u.Seq, "job %s: each update once, in order", h.Job)
			assert.Equal(t, j == len(h.Updates)-1, u.Status.Terminal(), "job %s: only the last update is terminal", h.Job)
			if j > 0 {
				assert.GreaterOrEqual(t, u.Status.Rank(), h.Updates[j-1].Status.Rank(), "job %s: %s after %s", h.Job, u.Status, h.Updates[j-1].Status)
			}
			if u.Status == Running {
				assert.Greater(t, u.Progress, progress, "job %s: progress rises", h.Job)
				progress = u.Progress
			}
		}
		checkSubscription(t, h)
	}
	assert.Empty(t, res.Stray, "every message was a reply or a live subscription's")

	// db-1 was watched at the drop: made again on the second connection.
	db := res.Jobs[1]
	require.Equal(t, "db-1", db.Job)
	assert.Equal(t, []rpc.SubState{rpc.Subscribing, rpc.Subscribed, rpc.Resubscribing, rpc.Subscribed, rpc.Unsubscribing, rpc.Unsubscribed},
		subStates(db.Sub), "%s", rpc.SubscriptionTraceMermaid(db.Sub))
	assert.Equal(t, 1, db.Sub[3].Attempt, "db-1: made again on the second connection")

	// One drop; on both connections the Resubscribing stage before Open.
	assert.Equal(t, []fsm.State{fsm.Idle, fsm.Connecting, rpc.ResubscribeStage, fsm.Open,
		fsm.Waiting, fsm.Connecting, rpc.ResubscribeStage, fsm.Open, fsm.Closing, fsm.Closed},
		states(res.Trace))

	assert.Contains(t, out.String(), "db-1     queued -> running 0% -> running 20% -> running 40% -> failed (volume quota exceeded)")
	assert.Contains(t, out.String(), "server     drops the connection")
}

// checkSubscription checks that a job's subscription went Subscribing,
// Subscribed, then (Resubscribing, Subscribed on the next connection)
// when the drop found it live, and ended Unsubscribed: the server
// confirmed the unsubscribe, or the connection it was sent on ended, or
// the connection was down when the watcher left.
func checkSubscription(t *testing.T, h Watch) {
	t.Helper()
	trace := h.Sub
	require.GreaterOrEqual(t, len(trace), 3, "job %s: %v", h.Job, trace)
	assert.Equal(t, rpc.Subscribing, trace[0].To)
	assert.Equal(t, rpc.Subscribed, trace[1].To)
	end := trace[len(trace)-1]
	assert.Equal(t, rpc.Unsubscribed, end.To, "job %s: %s", h.Job, rpc.SubscriptionTraceMermaid(trace))
	for i := 2; i < len(trace)-1; i++ {
		tr := trace[i]
		switch tr.To {
		case rpc.Resubscribing:
			assert.Equal(t, rpc.SubEventDropped, tr.Event)
		case rpc.Subscribed:
			assert.Equal(t, rpc.Resubscribing, tr.From)
			assert.Equal(t, 1, tr.Attempt, "job %s: made again on the second connection", h.Job)
		case rpc.Unsubscribing:
			assert.Equal(t, rpc.SubEventLeave, tr.Event)
		default:
			t.Errorf("job %s: unexpected %s", h.Job, tr)
		}
	}
	switch end.From {
	case rpc.Unsubscribing:
		if end.Event != rpc.SubEventAccepted {
			assert.True(t, errors.Is(end.Cause, rpc.ErrLost), "job %s: the unsubscribe was answered or lost with its connection: %v", h.Job, end.Cause)
		}
	case rpc.Resubscribing:
		assert.Equal(t, rpc.SubEventLeave, end.Event, "job %s: left while disconnected", h.Job)
	default:
		t.Errorf("job %s: ended from %s", h.Job, end.From)
	}
}

func subStates(trace []rpc.SubTransition) []rpc.SubState {
	out := make([]rpc.SubState, len(trace))
	for i, tr := range trace {
		out[i] = tr.To
	}
	return out
}

func states(trace []fsm.Transition) []fsm.State {
	out := make([]fsm.State, len(trace))
	for i, tr := range trace {
		out[i] = tr.To
	}
	return out
}

// TestStatusRank pins the order the test above relies on.
func TestStatusRank(t *testing.T) {
	assert.Less(t, Queued.Rank(), Running.Rank())
	assert.Less(t, Running.Rank(), Succeeded.Rank())
	assert.Equal(t, Succeeded.Rank(), Failed.Rank())
	assert.Equal(t, -1, Status("bogus").Rank())
	assert.False(t, Running.Terminal())
	assert.True(t, Failed.Terminal())
}
