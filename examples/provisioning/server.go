package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether/rpc/envelope"
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

// dropAt is the update after which the server drops every connection,
// once: db-1's "running 20%", while db-1 is surely watched.
var dropAt = struct {
	job string
	seq int
}{"db-1", 3}

// board is the server: the jobs, which run whatever happens to the
// connections, and who watches them. It speaks the envelope convention of
// package rpc/envelope: requests and replies by "id", subscriptions by
// "topic". A subscribe to a job's topic is answered, then the job's
// updates so far are sent (its history), then its new ones as they come;
// the watcher keeps what it has not seen by Seq. That is how a client
// that comes back after a drop misses nothing.
type board struct {
	log  func(who, format string, args ...any)
	stop chan struct{}
	runs sync.WaitGroup // the jobs' goroutines

	mu      sync.Mutex
	jobs    map[string]*job
	conns   map[*tethertest.WSConn]bool
	watches int           // subscriptions held, over every connection
	changed chan struct{} // closed and replaced when watches changes
	dropped bool
	closed  bool
}

// job is one job: its updates so far and the connections that watch it.
type job struct {
	mu       sync.Mutex
	started  bool
	history  []Update
	watchers map[*tethertest.WSConn]bool
}

func newBoard(log func(who, format string, args ...any)) *board {
	return &board{log: log, stop: make(chan struct{}), jobs: make(map[string]*job),
		conns: make(map[*tethertest.WSConn]bool), changed: make(chan struct{})}
}

// close stops the jobs and waits for them.
func (b *board) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.stop)
	}
	b.mu.Unlock()
	b.runs.Wait()
}

// job returns the job named name, made on first use (a client may
// subscribe before it provisions).
func (b *board) job(name string) *job {
	b.mu.Lock()
	defer b.mu.Unlock()
	j := b.jobs[name]
	if j == nil {
		j = &job{watchers: make(map[*tethertest.WSConn]bool)}
		b.jobs[name] = j
	}
	return j
}

// watched adds n to the count of subscriptions held.
func (b *board) watched(n int) {
	b.mu.Lock()
	b.watches += n
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// unwatched waits until no connection holds a subscription, and every
// unsubscribe has been answered.
func (b *board) unwatched(ctx context.Context) error {
	for {
		b.mu.Lock()
		n, ch := b.watches, b.changed
		b.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// inbound is an envelope from the client.
type inbound struct {
	Type  string          `json:"type"`
	ID    uint64          `json:"id"`
	Topic string          `json:"topic"`
	Data  json.RawMessage `json:"data"`
}

// serve answers one connection until it ends, then forgets its
// subscriptions.
func (b *board) serve(c *tethertest.WSConn) {
	b.mu.Lock()
	b.conns[c] = true
	b.mu.Unlock()
	defer b.forget(c)
	for {
		msg, err := c.Recv(context.Background())
		if err != nil {
			return // the connection ended
		}
		var in inbound
		if msg.Type != transport.Text || json.Unmarshal(msg.Payload, &in) != nil || in.ID == 0 {
			continue // not a request: nothing to answer
		}
		b.handle(c, in)
	}
}

// handle answers one request.
func (b *board) handle(c *tethertest.WSConn, in inbound) {
	switch in.Type {
	case TypeProvision:
		var p Provision
		pl, ok := plan{}, false
		if json.Unmarshal(in.Data, &p) == nil {
			pl, ok = plans[p.Template]
		}
		if !ok || p.Job == "" {
			reply(c, in, nil, &errorObject{Code: codeBadInput, Message: "unknown template " + p.Template})
			return
		}
		j := b.job(p.Job)
		j.mu.Lock()
		started := !j.started
		j.started = true
		j.mu.Unlock()
		if started {
			b.runs.Go(func() { b.run(p.Job, j, pl) })
		}
		reply(c, in, Provisioned{Job: p.Job, Started: started}, nil)
	case TypeJobs:
		b.mu.Lock()
		jobs := make([]*job, 0, len(b.jobs))
		for _, j := range b.jobs {
			jobs = append(jobs, j)
		}
		b.mu.Unlock()
		var last []Update
		for _, j := range jobs {
			j.mu.Lock()
			if n := len(j.history); n > 0 {
				last = append(last, j.history[n-1])
			}
			j.mu.Unlock()
		}
		reply(c, in, last, nil)
	case envelope.TypeSubscribe:
		name, ok := strings.CutPrefix(in.Topic, topicPrefix)
		if !ok || name == "" {
			reply(c, in, nil, &errorObject{Code: codeBadInput, Message: "no such topic " + in.Topic})
			return
		}
		j := b.job(name)
		// Under the job's lock: the answer, the history, then the watcher
		// is added, so that no update falls between the history and the
		// live ones, or comes twice.
		j.mu.Lock()
		if !j.watchers[c] {
			j.watchers[c] = true
			b.watched(1)
		}
		reply(c, in, nil, nil)
		for _, u := range j.history {
			notify(c, u)
		}
		j.mu.Unlock()
	case envelope.TypeUnsubscribe:
		name, _ := strings.CutPrefix(in.Topic, topicPrefix)
		b.mu.Lock()
		j := b.jobs[name]
		b.mu.Unlock()
		held := false
		if j != nil {
			j.mu.Lock()
			held = j.watchers[c]
			delete(j.watchers, c)
			j.mu.Unlock()
		}
		reply(c, in, nil, nil) // also when not held: it is not watched either way
		if held {
			b.watched(-1) // after the answer is out
		}
	default:
		reply(c, in, nil, &errorObject{Code: codeNotFound, Message: "unknown type " + in.Type})
	}
}

// forget removes a connection that ended from every job's watchers.
func (b *board) forget(c *tethertest.WSConn) {
	b.mu.Lock()
	delete(b.conns, c)
	jobs := make([]*job, 0, len(b.jobs))
	for _, j := range b.jobs {
		jobs = append(jobs, j)
	}
	b.mu.Unlock()
	n := 0
	for _, j := range jobs {
		j.mu.Lock()
		if j.watchers[c] {
			delete(j.watchers, c)
			n++
		}
		j.mu.Unlock()
	}
	if n > 0 {
		b.watched(-n)
	}
}

// run sends queued, running with each progress step, then succeeded or
// failed, one update per tick of the plan's pace, to the job's watchers
// of the moment; each goes into the job's history too.
func (b *board) run(name string, j *job, p plan) {
	updates := []Update{{Status: Queued}}
	for _, pct := range p.steps {
		updates = append(updates, Update{Status: Running, Progress: pct})
	}
	if p.fail != "" {
		updates = append(updates, Update{Status: Failed, Detail: p.fail})
	} else {
		updates = append(updates, Update{Status: Succeeded})
	}
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	for i, u := range updates {
		if i > 0 {
			select {
			case <-b.stop:
				return
			case <-tick.C:
			}
		}
		u.Job, u.Seq = name, i+1
		j.mu.Lock()
		j.history = append(j.history, u)
		for c := range j.watchers {
			notify(c, u)
		}
		j.mu.Unlock()
		if name == dropAt.job && u.Seq == dropAt.seq {
			b.dropAll()
		}
	}
}

// dropAll drops every connection without a close frame, the first time.
func (b *board) dropAll() {
	b.mu.Lock()
	if b.dropped {
		b.mu.Unlock()
		return
	}
	b.dropped = true
	conns := make([]*tethertest.WSConn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	b.log("server", "drops the connection without a close frame")
	for _, c := range conns {
		c.Drop()
	}
}

// errorObject is an error reply's "error".
type errorObject struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// outbound is an envelope to the client: a reply (an id) or a
// notification (a topic), with the server's timestamp.
type outbound struct {
	Type      string       `json:"type"`
	ID        uint64       `json:"id,omitzero"`
	Topic     string       `json:"topic,omitempty"`
	Data      any          `json:"data,omitempty"`
	Error     *errorObject `json:"error,omitempty"`
	Timestamp time.Time    `json:"timestamp"`
}

// reply answers the request in with data, or with an error.
func reply(c *tethertest.WSConn, in inbound, data any, e *errorObject) {
	typ := in.Type
	if e != nil {
		typ, data = "error", nil
	}
	send(c, outbound{Type: typ, ID: in.ID, Data: data, Error: e})
}

// notify sends u on its job's topic.
func notify(c *tethertest.WSConn, u Update) {
	send(c, outbound{Type: TypeStatus, Topic: Topic(u.Job), Data: u})
}

// send writes an envelope; a connection that ended takes nothing.
func send(c *tethertest.WSConn, m outbound) {
	m.Timestamp = time.Now().UTC()
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // the types above always encode
	}
	_ = c.Send(transport.Text, b)
}
