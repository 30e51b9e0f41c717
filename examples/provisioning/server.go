package main

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// plan is what the server does for a template: the progress steps of the
// running phase, the pace between updates, and the failure, if any, that
// ends the job at its last step.
type plan struct {
	steps []int
	every time.Duration
	fail  string
}

var plans = map[string]plan{
	"nginx":    {steps: []int{0, 50, 100}, every: 60 * time.Millisecond},
	"postgres": {steps: []int{0, 20, 40}, every: 80 * time.Millisecond, fail: "volume quota exceeded"},
	"redis":    {steps: []int{0, 100}, every: 40 * time.Millisecond},
}

// serve reads provisioning requests on one connection and runs each job on
// its own goroutine, sending its status updates in order. It returns when
// the connection has ended and every job has stopped.
func serve(c *tethertest.WSConn) {
	var jobs sync.WaitGroup
	defer jobs.Wait()
	for {
		msg, err := c.Recv(context.Background())
		if err != nil {
			return // the connection ended
		}
		var req Provision
		if msg.Type != transport.Text || json.Unmarshal(msg.Payload, &req) != nil {
			continue
		}
		p, ok := plans[req.Template]
		if !ok {
			p = plan{every: 50 * time.Millisecond, fail: "unknown template " + req.Template}
		}
		jobs.Go(func() { runJob(c, req.Job, p) })
	}
}

// runJob sends queued, running with each progress step, then succeeded or
// failed, one update per tick of the plan's pace.
func runJob(c *tethertest.WSConn, job string, p plan) {
	updates := []Update{{Job: job, Status: Queued}}
	for _, pct := range p.steps {
		updates = append(updates, Update{Job: job, Status: Running, Progress: pct})
	}
	if p.fail != "" {
		updates = append(updates, Update{Job: job, Status: Failed, Detail: p.fail})
	} else {
		updates = append(updates, Update{Job: job, Status: Succeeded})
	}
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	for i, u := range updates {
		if i > 0 {
			select {
			case <-c.Done():
				return
			case <-tick.C:
			}
		}
		b, _ := json.Marshal(u)
		if c.Send(transport.Text, b) != nil {
			return
		}
	}
}
