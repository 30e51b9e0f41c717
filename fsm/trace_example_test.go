package fsm_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tether-go/tether/fsm"
)

// The same trace as ExampleTraceMermaid, for Graphviz (dot -Tsvg). Its
// first lines declare a node per state; the edges are the transitions, in
// order. The cause is shown whole (up to fsm.MaxTraceCause bytes), escaped
// for a DOT string.
func ExampleTraceDOT() {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	trace := []fsm.Transition{
		{Seq: 1, From: fsm.Idle, To: fsm.Connecting, Event: fsm.EventConnect, Transport: "websocket", Time: at},
		{Seq: 2, From: fsm.Connecting, To: fsm.Waiting, Event: fsm.EventDialFailed, Transport: "websocket",
			Cause: errors.New(`handshake refused: HTTP 503 Service Unavailable: "restarting"`),
			Time:  at.Add(20 * time.Millisecond)},
		{Seq: 3, From: fsm.Waiting, To: fsm.Connecting, Event: fsm.EventRetry, Attempt: 1, Time: at.Add(time.Second)},
	}
	for line := range strings.Lines(fsm.TraceDOT(trace)) {
		if strings.Contains(line, " -> ") {
			fmt.Print(line)
		}
	}
	// Output:
	//     "Idle" -> "Connecting" [label="1. connect at +0s, websocket"];
	//     "Connecting" -> "Waiting" [label="2. dial_failed at +20ms, websocket, handshake refused: HTTP 503 Service Unavailable: \"restarting\""];
	//     "Waiting" -> "Connecting" [label="3. retry at +1s, attempt 1"];
}
