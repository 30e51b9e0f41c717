package stream_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tether-go/tether/stream"
)

// FuzzDispatchPayload feeds arbitrary bytes to a router with a handler, a
// typed stream and a fallback-free unknown path: it must never panic, and
// every error must be a *DecodeError or a *RouteError with a bounded
// excerpt.
func FuzzDispatchPayload(f *testing.F) {
	for _, seed := range []string{
		`{"type":"system","data":{"cpu":0.5,"mem":1},"timestamp":"2024-01-01T00:00:00Z"}`,
		`{"type":"alert","data":{"level":"warn"}}`,
		`{"type":"system","data":{"cpu":"x"}}`,
		`{"type":"unknown"}`,
		`{"type":"alert","timestamp":12}`,
		`{"type":`,
		`[]`,
		`null`,
		"\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		r := stream.NewRouter()
		defer r.Close()
		stream.Handle(r, "system", func(stream.Message[metrics]) {})
		sub := stream.Route[alert](r, "alert").Subscribe(context.Background(), stream.WithBuffer(1))
		defer sub.Close()
		err := r.DispatchPayload(payload)
		if err == nil {
			return
		}
		var de *stream.DecodeError
		var re *stream.RouteError
		switch {
		case errors.As(err, &de):
			if len(de.Payload) > stream.MaxExcerpt || de.Size != len(payload) && de.Type == "" {
				t.Fatalf("bad excerpt: %d bytes of %d (size %d)", len(de.Payload), len(payload), de.Size)
			}
		case errors.As(err, &re):
			if !errors.Is(err, stream.ErrUnknownType) {
				t.Fatalf("route error without ErrUnknownType: %v", err)
			}
		default:
			t.Fatalf("untyped error %T: %v", err, err)
		}
	})
}
