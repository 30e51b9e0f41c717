package main

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// Notification is the message the server sends.
type Notification struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Title string `json:"title"`
}

// script lists the notification IDs the server sends on each connection,
// in order. Its delivery is at least once, so some arrive twice: n04 is
// resent at once (the server retried a send it was unsure of), and after
// the drop that ends the first connection the second one replays the last
// three notifications of the first. After its last ID the first connection
// is dropped without a close frame; the second is closed normally (1000),
// which is how this server says the feed is complete.
var script = [][]string{
	{"n01", "n02", "n03", "n04", "n04", "n05", "n06", "n07", "n08"},
	{"n06", "n07", "n08", "n09", "n10", "n11", "n11", "n12", "n13", "n14"},
}

// catalog holds the notifications by ID.
var catalog = map[string]Notification{
	"n01": {"n01", "deploy", "web-1 deployed to production"},
	"n02": {"n02", "alert", "disk 91% full on db-1"},
	"n03": {"n03", "comment", "Ana replied to the drift report"},
	"n04": {"n04", "billing", "invoice #1004 issued"},
	"n05": {"n05", "deploy", "web-2 deployed to production"},
	"n06": {"n06", "alert", "disk 95% full on db-1"},
	"n07": {"n07", "alert", "db-1 failed over to db-2"},
	"n08": {"n08", "comment", "Ben resolved the drift report"},
	"n09": {"n09", "deploy", "api-1 rolled back"},
	"n10": {"n10", "billing", "payment received for #1004"},
	"n11": {"n11", "alert", "certificate expires in 7 days"},
	"n12": {"n12", "deploy", "api-1 deployed to production"},
	"n13": {"n13", "comment", "Chen mentioned you in #ops"},
	"n14": {"n14", "alert", "disk usage back to 60% on db-1"},
}

// server is the notification feed's script, one connection after another.
type server struct {
	every time.Duration
	out   *printer

	mu    sync.Mutex
	conns int
	sent  map[string]bool
}

func (s *server) serve(c *tethertest.WSConn) {
	s.mu.Lock()
	n := s.conns
	s.conns++
	s.mu.Unlock()
	if n >= len(script) {
		_ = c.Close(transport.StatusNormalClosure, "feed complete")
		return
	}
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for _, id := range script[n] {
		select {
		case <-c.Done():
			return
		case <-tick.C:
		}
		s.mu.Lock()
		again := s.sent[id]
		s.sent[id] = true
		s.mu.Unlock()
		if again {
			s.out.printf("server", "sends %s again", id)
		}
		b, _ := json.Marshal(catalog[id])
		if c.Send(transport.Text, b) != nil {
			return
		}
	}
	if n == 0 {
		s.out.printf("server", "drops connection 1 without a close frame")
		c.Drop()
		return
	}
	s.out.printf("server", "feed complete: closes connection %d with 1000", n+1)
	_ = c.Close(transport.StatusNormalClosure, "feed complete")
}
