package main

import (
	"context"
	"iter"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/stream"
)

// Status is a job's provisioning status.
type Status string

// The statuses, in the order a job goes through them.
const (
	Queued    Status = "queued"
	Running   Status = "running"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
)

// Terminal reports whether the job is over.
func (s Status) Terminal() bool { return s == Succeeded || s == Failed }

// Rank orders the statuses: queued, then running, then a terminal one.
func (s Status) Rank() int {
	switch s {
	case Queued:
		return 0
	case Running:
		return 1
	case Succeeded, Failed:
		return 2
	}
	return -1
}

// Update is the message the server sends: one job's new status.
type Update struct {
	Job      string `json:"job"`
	Status   Status `json:"status"`
	Progress int    `json:"progress,omitempty"` // percent, while running
	Detail   string `json:"detail,omitempty"`
}

// Provision is the request the client sends to start a job.
type Provision struct {
	Job      string `json:"job"`
	Template string `json:"template"`
}

// jobStream returns the status stream of one job: the updates for job, in
// the order they arrived, ending after the first terminal one.
//
// It subscribes at once, so call it before sending the request that starts
// the job: no update can slip past. The subscription has its own queue with
// the Block policy (a status is never dropped); it is closed when the loop
// over the stream ends, for whatever reason, or when ctx ends, so a stream
// that is never ranged over must have a ctx that ends.
func jobStream(ctx context.Context, c *tether.Client[Update], job string) iter.Seq[Update] {
	sub := c.Messages(ctx, stream.WithOverflow(stream.Block), stream.WithName("job "+job))
	return func(yield func(Update) bool) {
		defer sub.Close()
		for u := range sub.All() {
			if u.Job != job {
				continue
			}
			if !yield(u) || u.Status.Terminal() {
				return
			}
		}
	}
}
