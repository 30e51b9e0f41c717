package faults

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// server is the WebSocket server behind the proxy: a tethertest.WSServer
// whose handler records the client's messages and sends its own every
// `every`, numbered per connection. It can be killed (every connection
// dropped without a close frame, the listener closed) and started again,
// on a new port. Its methods are safe for concurrent use.
type server struct {
	bell  *bell
	every time.Duration
	pad   int

	mu      sync.Mutex
	ws      *tethertest.WSServer // nil while killed
	conns   int                  // connections accepted so far; the last one's number
	sent    map[int]int          // connection -> last Seq sent on it without error
	got     []int                // the client's Seq values, in arrival order
	gotAt   []int64              // when each arrived, in Unix nanoseconds
	count   []uint8              // indexed by Seq: how many times it arrived (saturates)
	badPad  int                  // messages whose pad was not intact
	badJSON int                  // text messages that were not a wire value
	kitLost uint64               // messages the kit's full queue discarded (WSConn.Discarded)
}

func newServer(b *bell, every time.Duration, pad int) *server {
	return &server{bell: b, every: every, pad: pad, sent: make(map[int]int)}
}

// start starts the server and returns its address, host:port.
func (s *server) start() string {
	ws := tethertest.NewWSServer(tethertest.WithHandler(s.handle))
	s.mu.Lock()
	s.ws = ws
	s.mu.Unlock()
	return strings.TrimPrefix(ws.URL, "ws://")
}

// kill drops every connection without a close frame and stops listening:
// a crash, as the client sees it. It returns once every handler returned.
func (s *server) kill() {
	s.mu.Lock()
	ws := s.ws
	s.ws = nil
	s.mu.Unlock()
	if ws != nil {
		ws.Close()
	}
}

func (s *server) handle(c *tethertest.WSConn) {
	s.mu.Lock()
	s.conns++
	id := s.conns
	s.mu.Unlock()
	s.bell.ring()

	sending := make(chan struct{})
	go func() {
		defer close(sending)
		s.sendLoop(c, id)
	}()
	for {
		m, err := c.Recv(context.Background()) // returns once the connection ended and its queue is drained
		if err != nil {
			break
		}
		if m.Type != transport.Text {
			continue
		}
		var w wire
		err = json.Unmarshal(m.Payload, &w)
		now := time.Now().UnixNano()
		s.mu.Lock()
		switch {
		case err != nil:
			s.badJSON++
		case !w.intact():
			s.badPad++
		default:
			s.got = append(s.got, w.Seq)
			s.gotAt = append(s.gotAt, now)
			for len(s.count) <= w.Seq {
				s.count = append(s.count, 0)
			}
			if s.count[w.Seq] < 255 {
				s.count[w.Seq]++
			}
		}
		s.mu.Unlock()
		s.bell.ring()
	}
	s.mu.Lock()
	s.kitLost += c.Discarded()
	s.mu.Unlock()
	<-sending
}

func (s *server) sendLoop(c *tethertest.WSConn, id int) {
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for seq := 1; ; seq++ {
		select {
		case <-c.Done():
			return
		case <-tick.C:
		}
		b, err := json.Marshal(wire{Conn: id, Seq: seq, Pad: pattern(seq, s.pad)})
		if err != nil {
			panic(err) // a wire value always encodes
		}
		if c.Send(transport.Text, b) != nil {
			return
		}
		s.mu.Lock()
		s.sent[id] = seq
		s.mu.Unlock()
	}
}

// snapshot is a copy of what the server recorded.
type snapshot struct {
	conns   int
	sent    map[int]int
	got     []int
	gotAt   []int64
	badPad  int
	badJSON int
	kitLost uint64
}

func (s *server) snapshot() snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	sent := make(map[int]int, len(s.sent))
	for k, v := range s.sent {
		sent[k] = v
	}
	return snapshot{
		conns: s.conns, sent: sent,
		got: append([]int(nil), s.got...), gotAt: append([]int64(nil), s.gotAt...),
		badPad: s.badPad, badJSON: s.badJSON, kitLost: s.kitLost,
	}
}

// received returns how many client messages arrived, and the largest Seq
// among them.
func (s *server) received() (n, maxSeq int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.got {
		maxSeq = max(maxSeq, q)
	}
	return len(s.got), maxSeq
}

// has reports whether the client's message seq arrived.
func (s *server) has(seq int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return seq >= 0 && seq < len(s.count) && s.count[seq] > 0
}
