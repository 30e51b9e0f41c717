package main

import (
	"context"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/rpc"
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

// Update is a notification on a job's topic: the job's new status. Seq
// numbers a job's updates from 1, so a watcher can tell an update it has
// from a new one.
type Update struct {
	Job      string `json:"job"`
	Seq      int    `json:"seq"`
	Status   Status `json:"status"`
	Progress int    `json:"progress,omitempty"` // percent, while running
	Detail   string `json:"detail,omitempty"`
}

// Provision is the "provision" request's data: start job from template.
type Provision struct {
	Job      string `json:"job"`
	Template string `json:"template"`
}

// Provisioned is the reply to "provision": Started is false when the job
// was running already (the request is idempotent).
type Provisioned struct {
	Job     string `json:"job"`
	Started bool   `json:"started"`
}

// The envelope types the server speaks beside subscribe and unsubscribe
// (package rpc/envelope).
const (
	TypeProvision = "provision"  // request: Provision, reply Provisioned
	TypeJobs      = "jobs"       // request: no data, reply []Update, each job's last
	TypeStatus    = "job.status" // notification on a job's topic: Update
	topicPrefix   = "jobs/"      // a job's topic: "jobs/" and the job
	codeBadInput  = 400          // error reply: unknown template or topic
	codeNotFound  = 404          // error reply: unknown type
)

// Topic returns the topic of job's updates: "jobs/web-1".
func Topic(job string) string { return topicPrefix + job }

// ready waits until the connection is ready (Open). A watcher leaves its
// subscription only then: during the Resubscribing stage the
// subscription is being made again, and it is Subscribed, its server
// side known, once the stage has passed.
func ready(ctx context.Context, c interface {
	State() fsm.State
	WaitForStateChange(context.Context, fsm.State) bool
}) error {
	for st := c.State(); st != fsm.Open; st = c.State() {
		if st == fsm.Closed {
			return rpc.ErrClosed
		}
		if !c.WaitForStateChange(ctx, st) {
			return ctx.Err()
		}
	}
	return nil
}
