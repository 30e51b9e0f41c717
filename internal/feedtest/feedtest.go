// Package feedtest makes the messages of a realistic JSON feed, for the
// tests and benchmarks that measure or exercise compression: the envelopes
// of examples/metrics ({"type", "data", "timestamp"} with a system, process
// or custom metric, in turn), the same bytes for the same index.
package feedtest

import (
	"encoding/json"
	"time"
)

// epoch is the timestamp of message 0; message i is 50 ms later per step,
// the pace of examples/metrics.
var epoch = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

type envelope struct {
	Type      string    `json:"type"`
	Data      any       `json:"data"`
	Timestamp time.Time `json:"timestamp"`
}

type system struct {
	Seq uint64  `json:"seq"`
	CPU float64 `json:"cpu"`
	Mem float64 `json:"mem"`
}

type process struct {
	Seq uint64 `json:"seq"`
	PID int    `json:"pid"`
	RSS uint64 `json:"rss"`
}

type custom struct {
	Seq   uint64  `json:"seq"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Message returns message i of the feed (about 100 bytes of JSON).
func Message(i int) []byte {
	seq := uint64(i) + 1
	e := envelope{Timestamp: epoch.Add(time.Duration(i) * 50 * time.Millisecond)}
	switch seq % 3 {
	case 1:
		e.Type, e.Data = "system", system{Seq: seq, CPU: float64(seq%10) / 10, Mem: 0.5 + float64(seq%5)/20}
	case 2:
		e.Type, e.Data = "process", process{Seq: seq, PID: 4242, RSS: 64<<20 + seq<<12}
	default:
		e.Type, e.Data = "custom", custom{Seq: seq, Name: "queue_depth", Value: float64(seq % 7)}
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // the types above always encode
	}
	return b
}

// Batch returns messages i to i+n-1 as one JSON array: what a feed that
// batches its updates sends (about 100 bytes per message in it).
func Batch(i, n int) []byte {
	msgs := make([]json.RawMessage, n)
	for k := range msgs {
		msgs[k] = Message(i + k)
	}
	b, err := json.Marshal(msgs)
	if err != nil {
		panic(err)
	}
	return b
}
