package main

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// feed is the server's single sequence of metrics, shared by the WebSocket
// endpoint and the REST endpoint: entry i holds the envelope of sequence
// number i+1. Whatever transport a client uses, it resumes after the last
// sequence number it has seen, so a switch neither skips nor repeats one.
type feed struct {
	mu      sync.Mutex
	log     [][]byte      // encoded envelopes; log[i] is sequence i+1
	changed chan struct{} // closed and replaced on every append
}

func newFeed() *feed { return &feed{changed: make(chan struct{})} }

// append adds the envelope of the next sequence number.
func (f *feed) append(payload []byte) {
	f.mu.Lock()
	f.log = append(f.log, payload)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// next returns the sequence number the next append gets.
func (f *feed) next() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return uint64(len(f.log)) + 1
}

// since returns the envelopes after sequence number after, the last
// sequence number it returns (after itself when there is nothing new), and
// a channel closed on the next append.
func (f *feed) since(after uint64) (payloads [][]byte, last uint64, changed <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := uint64(len(f.log))
	if after >= n {
		return nil, after, f.changed
	}
	return f.log[after:n:n], n, f.changed
}

// generate appends one metric per tick, cycling through the three kinds,
// until stop is closed. This pacing is the program's behaviour: a live
// feed producing about twenty metrics a second.
func (f *feed) generate(stop <-chan struct{}, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			seq := f.next()
			var payload []byte
			switch seq % 3 {
			case 1:
				payload, _, _ = stream.Encode(stream.JSON, stream.Message[System]{Type: "system", Timestamp: now,
					Data: System{Seq: seq, CPU: float64(seq%10) / 10, Mem: 0.5 + float64(seq%5)/20}})
			case 2:
				payload, _, _ = stream.Encode(stream.JSON, stream.Message[Process]{Type: "process", Timestamp: now,
					Data: Process{Seq: seq, PID: 4242, RSS: 64<<20 + seq<<12}})
			default:
				payload, _, _ = stream.Encode(stream.JSON, stream.Message[Custom]{Type: "custom", Timestamp: now,
					Data: Custom{Seq: seq, Name: "queue_depth", Value: float64(seq % 7)}})
			}
			f.append(payload)
		}
	}
}

// server is the embedded metrics server: a WebSocket endpoint at
// /metrics/ws and a REST endpoint at /metrics/poll on one loopback port.
type server struct {
	*tethertest.WSServer
	feed *feed
	out  *printer
}

func newServer(f *feed, out *printer) *server {
	s := &server{feed: f, out: out}
	s.WSServer = tethertest.NewWSServer(tethertest.WithHandler(s.serveWS))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics/poll", s.servePoll)
	s.HandleHTTP(mux)
	return s
}

// serveWS streams the feed on one WebSocket connection, starting after the
// sequence number in the since query parameter.
func (s *server) serveWS(c *tethertest.WSConn) {
	cursor, _ := strconv.ParseUint(c.Request.URL.Query().Get("since"), 10, 64)
	s.out.printf("server", "websocket connection, resuming after #%d", cursor)
	defer func() {
		<-c.Done()
		if ce, ok := errors.AsType[*transport.CloseError](c.Err()); ok && ce.Remote {
			s.out.printf("server", "websocket connection closed by the client (%d %q)", ce.Code, ce.Reason)
		}
	}()
	for {
		msgs, last, changed := s.feed.since(cursor)
		for _, m := range msgs {
			if c.Send(transport.Text, m) != nil {
				return
			}
		}
		cursor = last
		select {
		case <-changed:
		case <-c.Done():
			return
		}
	}
}

// servePoll answers one poll with a JSON array of the envelopes after the
// client's cursor: the since query parameter, or the ETag the client echoes
// in If-None-Match, whichever is further. The answer's ETag is the new
// cursor; 304 means nothing new.
func (s *server) servePoll(w http.ResponseWriter, r *http.Request) {
	cursor, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
	if tag, err := strconv.ParseUint(strings.Trim(r.Header.Get("If-None-Match"), `"`), 10, 64); err == nil {
		cursor = max(cursor, tag)
	}
	msgs, last, _ := s.feed.since(cursor)
	w.Header().Set("ETag", `"`+strconv.FormatUint(last, 10)+`"`)
	if len(msgs) == 0 {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.out.printf("server", "poll after #%d: %d metrics (#%d to #%d)", cursor, len(msgs), cursor+1, last)
	w.Header().Set("Content-Type", "application/json")
	var body bytes.Buffer
	body.WriteByte('[')
	body.Write(bytes.Join(msgs, []byte(",")))
	body.WriteByte(']')
	_, _ = w.Write(body.Bytes())
}
