package inspect

import (
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
)

// maxCause is the most runes of a transition's cause the page shows.
const maxCause = 300

// The JSON the page reads. Field names are the page's contract: app.js and
// the tests read them.

// Snapshot is every client the inspector shows, as snapshot.json serves it
// and as a page receives it when it connects.
type Snapshot struct {
	Title string `json:"title"`
	// Diagrams holds the lifecycle diagram of each distinct table the
	// clients run, as SVG (see DiagramOf), by DiagramView.ID: clients
	// without stages share one.
	Diagrams map[string]string `json:"diagrams"`
	Interval int64             `json:"interval"` // milliseconds between counter updates
	Clients  []ClientView      `json:"clients"`
}

// ClientView is one client: its name, its diagram, its trace and its
// counters.
type ClientView struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	// Diagram is the ID of the client's lifecycle diagram, in
	// Snapshot.Diagrams or in a "diagram" event sent before the client's;
	// empty when the client's table could not be drawn.
	Diagram string           `json:"diagram"`
	Trace   []TransitionView `json:"trace"`
	Stats   StatsView        `json:"stats"`
}

// DiagramView is one lifecycle diagram, as the "diagram" event carries it
// to a page that has not got it yet. ID depends only on the diagram.
type DiagramView struct {
	ID  string `json:"id"`
	SVG string `json:"svg"`
}

// TransitionView is one transition, with its cause as bounded text.
type TransitionView struct {
	Client    int       `json:"client"`
	Seq       uint64    `json:"seq"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Event     string    `json:"event"`
	Cause     string    `json:"cause,omitempty"`
	Attempt   int       `json:"attempt,omitempty"`
	CloseCode uint16    `json:"code,omitempty"`
	Transport string    `json:"transport,omitempty"`
	Time      time.Time `json:"time"`
}

// StatsView is a client's counters at one moment, with its state and the
// retry ahead (StateView) read together with them.
type StatsView struct {
	Client int `json:"client"`
	StateView
	MessagesIn    uint64    `json:"messagesIn"`
	BytesIn       uint64    `json:"bytesIn"`
	MessagesOut   uint64    `json:"messagesOut"`
	BytesOut      uint64    `json:"bytesOut"`
	Drops         uint64    `json:"drops"`
	PossiblyLost  uint64    `json:"possiblyLost"`
	Reconnects    uint64    `json:"reconnects"`
	RTTMillis     float64   `json:"rttMs"`
	RTTSamples    uint64    `json:"rttSamples"`
	BufferedMsgs  int       `json:"bufferedMessages"`
	BufferedBytes int       `json:"bufferedBytes"`
	Time          time.Time `json:"time"`
}

// StateView is a client's state and the retry it waits for, read together
// from one Stats: when State is Waiting and the policy scheduled a retry,
// NextRetry and NextRetryAt are set.
type StateView struct {
	State           string    `json:"state"`
	NextRetry       int       `json:"nextAttempt,omitempty"`
	NextRetryMillis float64   `json:"nextDelayMs,omitempty"`
	NextRetryAt     time.Time `json:"nextAt,omitzero"`
	// Ahead is the reconnect schedule after the next retry (Stats.Ahead),
	// and AheadStop why the policy would give up after it, if it would.
	Ahead     []StepView `json:"ahead,omitempty"`
	AheadStop string     `json:"aheadStop,omitempty"`
}

// TransitionEvent is a "transition" event: the transition, and the
// client's state and retry as its Stats held them when the inspector took
// the transition from the client. The client records the retry before it
// publishes the transition to Waiting, so a page shows Waiting and its
// retry together, without waiting for the next counters. Now.State may be
// ahead of To when the client has moved on since; its next transitions
// are on their way.
type TransitionEvent struct {
	TransitionView
	Now StateView `json:"now"`
}

// StepView is one attempt of the schedule ahead: the interval its delay
// will be drawn from (MinMillis equals MaxMillis when it is not random).
type StepView struct {
	Attempt   int     `json:"attempt"`
	MinMillis float64 `json:"minMs"`
	MaxMillis float64 `json:"maxMs"`
}

func transitionView(id int, tr fsm.Transition) TransitionView {
	v := TransitionView{Client: id, Seq: tr.Seq, From: tr.From.String(), To: tr.To.String(), Event: tr.Event.String(),
		Attempt: tr.Attempt, CloseCode: tr.CloseCode, Transport: bounded(tr.Transport, 40), Time: tr.Time}
	if tr.Cause != nil {
		v.Cause = bounded(tr.Cause.Error(), maxCause)
	}
	return v
}

func statsView(e *entry) StatsView {
	st := e.c.Stats()
	msgs, bytes := e.c.Buffered()
	// The state is the one Stats read with the retry, so the page never
	// shows Waiting without it.
	return StatsView{Client: e.id, StateView: stateView(st),
		MessagesIn: st.MessagesIn, BytesIn: st.BytesIn, MessagesOut: st.MessagesOut, BytesOut: st.BytesOut,
		Drops: st.Drops(), PossiblyLost: st.PossiblyLost, Reconnects: st.Reconnects,
		RTTMillis: millis(st.RTT), RTTSamples: st.RTTSamples,
		BufferedMsgs: msgs, BufferedBytes: bytes, Time: time.Now()}
}

// stateView is the state and the retry of one Stats.
func stateView(st tether.Stats) StateView {
	v := StateView{State: st.State.String()}
	if st.NextRetry.Attempt > 0 {
		v.NextRetry = st.NextRetry.Attempt
		v.NextRetryMillis = millis(st.NextRetry.Delay)
		v.NextRetryAt = st.NextRetryAt
	}
	for _, s := range st.Ahead.Steps {
		v.Ahead = append(v.Ahead, StepView{Attempt: s.Attempt, MinMillis: millis(s.Min), MaxMillis: millis(s.Max)})
	}
	if st.Ahead.Stop != nil {
		v.AheadStop = bounded(strings.TrimPrefix(st.Ahead.Stop.Error(), "tether/policy: "), maxCause)
	}
	return v
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func clientView(e *entry) ClientView {
	trace := e.c.Trace()
	v := ClientView{ID: e.id, Name: e.name, Diagram: e.diagram().ID, Trace: make([]TransitionView, 0, len(trace)),
		Stats: statsView(e)}
	for _, tr := range trace {
		v.Trace = append(v.Trace, transitionView(e.id, tr))
	}
	return v
}

// snapshot is every client, now.
func (in *Inspector) snapshot() Snapshot {
	entries, _ := in.list()
	s := Snapshot{Title: in.cfg.title, Diagrams: map[string]string{}, Interval: in.cfg.interval.Milliseconds(),
		Clients: make([]ClientView, 0, len(entries))}
	for _, e := range entries {
		if d := e.diagram(); d.ID != "" {
			s.Diagrams[d.ID] = d.SVG
		}
		s.Clients = append(s.Clients, clientView(e))
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}
