package main

import (
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// Detected is the data of a "detected" envelope: a resource whose live
// configuration differs from the declared one.
type Detected struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
}

// Resolved is the data of a "resolved" envelope: the drift of a resource
// is gone.
type Resolved struct {
	Resource string `json:"resource"`
	By       string `json:"by"`
}

// script is what the drift server sends on its one connection, in order:
// the type and data of each envelope.
var script = []stream.Message[any]{
	{Type: "detected", Data: Detected{"web-1", "replicas", "3", "2"}},
	{Type: "detected", Data: Detected{"db-1", "instance_type", "m5.large", "m5.xlarge"}},
	{Type: "resolved", Data: Resolved{"web-1", "autoscaler"}},
	{Type: "detected", Data: Detected{"sg-1", "ingress", "10.0.0.0/8", "0.0.0.0/0"}},
	{Type: "resolved", Data: Resolved{"db-1", "terraform apply"}},
}

// server sends the script on the first connection, then closes it with
// 1001 (going away) and reports gone: the program then shuts it down for
// good. A connection that slips in before the shutdown is closed at once
// the same way.
type server struct {
	every time.Duration
	out   *printer
	conns atomic.Int32
	gone  chan struct{}
}

func (s *server) serve(c *tethertest.WSConn) {
	if s.conns.Add(1) > 1 {
		_ = c.Close(transport.StatusGoingAway, "decommissioned")
		return
	}
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for _, m := range script {
		select {
		case <-c.Done():
			return
		case now := <-tick.C:
			m.Timestamp = now
			b, _, err := stream.Encode(stream.JSON, m)
			if err != nil || c.Send(transport.Text, b) != nil {
				return
			}
		}
	}
	s.out.printf("server", "going away: closes with 1001, then shuts down for good")
	_ = c.Close(transport.StatusGoingAway, "decommissioned")
	<-c.Done()
	close(s.gone)
}
