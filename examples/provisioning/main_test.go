package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestProvisioning runs the program against its embedded server, in real
// time, and checks each job's stream: it holds only that job's updates,
// starts queued, never goes back (queued, running with rising progress,
// then terminal), and ends with exactly one terminal status, the one the
// server's plan for the job's template leads to.
func TestProvisioning(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	histories, err := demo(ctx, &out)
	require.NoError(t, err, out.String())
	require.Len(t, histories, len(requests))

	want := map[string]Status{"web-1": Succeeded, "db-1": Failed, "cache-1": Succeeded}
	for i, h := range histories {
		req := requests[i]
		assert.Equal(t, req.Job, h.Job)
		p := plans[req.Template]
		// queued, one running update per step, the terminal one.
		require.Len(t, h.Updates, len(p.steps)+2, "job %s: %v", h.Job, h.Updates)
		assert.Equal(t, Queued, h.Updates[0].Status, "job %s starts queued", h.Job)
		last := h.Updates[len(h.Updates)-1]
		assert.Equal(t, want[h.Job], last.Status, "job %s ends", h.Job)
		if last.Status == Failed {
			assert.Equal(t, p.fail, last.Detail)
		}
		progress := -1
		for j, u := range h.Updates {
			assert.Equal(t, h.Job, u.Job, "a job's stream holds only its own updates")
			assert.Equal(t, j == len(h.Updates)-1, u.Status.Terminal(), "job %s: only the last update is terminal", h.Job)
			if j > 0 {
				assert.GreaterOrEqual(t, u.Status.Rank(), h.Updates[j-1].Status.Rank(), "job %s: %s after %s", h.Job, u.Status, h.Updates[j-1].Status)
			}
			if u.Status == Running {
				assert.Greater(t, u.Progress, progress, "job %s: progress rises", h.Job)
				progress = u.Progress
			}
		}
	}
	assert.Contains(t, out.String(), "db-1     queued -> running 0% -> running 20% -> running 40% -> failed (volume quota exceeded)")
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
