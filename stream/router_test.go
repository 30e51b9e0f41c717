package stream_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/stream"
)

type alert struct {
	Level string `json:"level"`
}

func env(typ, data string) stream.Envelope {
	return stream.Envelope{Type: typ, Data: json.RawMessage(data)}
}

func TestDispatchToHandler(t *testing.T) {
	r := stream.NewRouter()
	var got []stream.Message[metrics]
	stream.Handle(r, "system", func(m stream.Message[metrics]) { got = append(got, m) })
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, r.Dispatch(stream.Envelope{Type: "system", Data: json.RawMessage(`{"cpu":1.5,"mem":7}`), Timestamp: ts}))
	require.Equal(t, []stream.Message[metrics]{{Type: "system", Data: metrics{CPU: 1.5, Mem: 7}, Timestamp: ts}}, got)
}

func TestDispatchToTypedStream(t *testing.T) {
	r := stream.NewRouter()
	alerts := stream.Route[alert](r, "alert")
	require.Same(t, alerts, stream.Route[alert](r, "alert"), "one hub per (type, T)")
	sub := alerts.Subscribe(context.Background())
	require.NoError(t, r.DispatchPayload([]byte(`{"type":"alert","data":{"level":"warn"}}`)))
	require.NoError(t, r.DispatchPayload([]byte(`{"type":"alert","data":{"level":"crit"}}`)))
	r.Close()
	var levels []string
	for m := range sub.All() {
		levels = append(levels, m.Data.Level)
	}
	require.Equal(t, []string{"warn", "crit"}, levels, "Close ends the route's subscribers")
}

func TestDispatchUnknownType(t *testing.T) {
	r := stream.NewRouter()
	err := r.Dispatch(env("nope", `{}`))
	require.ErrorIs(t, err, stream.ErrUnknownType)
	var re *stream.RouteError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "nope", re.Type)
}

func TestDispatchFallback(t *testing.T) {
	var seen []string
	sentinel := errors.New("fallback says no")
	r := stream.NewRouter(stream.WithFallback(func(e stream.Envelope) error {
		seen = append(seen, e.Type)
		if e.Type == "bad" {
			return sentinel
		}
		return nil
	}))
	require.NoError(t, r.Dispatch(env("other", `1`)))
	require.ErrorIs(t, r.Dispatch(env("bad", `1`)), sentinel)
	require.Equal(t, []string{"other", "bad"}, seen)
}

func TestDispatchDecodeError(t *testing.T) {
	r := stream.NewRouter()
	called := false
	stream.Handle(r, "system", func(stream.Message[metrics]) { called = true })
	err := r.Dispatch(env("system", `{"cpu":"high"}`))
	var de *stream.DecodeError
	require.ErrorAs(t, err, &de)
	require.Equal(t, "system", de.Type)
	require.Equal(t, "json", de.Codec)
	require.Equal(t, "stream_test.metrics", de.Target)
	require.False(t, called)

	err = r.DispatchPayload([]byte(`{"type":`))
	require.ErrorAs(t, err, &de)
	require.Empty(t, de.Type)
}

func TestDispatchEmptyDataIsZero(t *testing.T) {
	r := stream.NewRouter()
	var got []stream.Message[metrics]
	stream.Handle(r, "ping", func(m stream.Message[metrics]) { got = append(got, m) })
	require.NoError(t, r.DispatchPayload([]byte(`{"type":"ping"}`)))
	require.NoError(t, r.DispatchPayload([]byte(`{"type":"ping","data":null}`)))
	require.Len(t, got, 2)
	require.Zero(t, got[0].Data)
	require.Zero(t, got[1].Data)
}

func TestSeveralRegistrationsRunInOrder(t *testing.T) {
	r := stream.NewRouter()
	var calls []string
	stream.Handle(r, "x", func(m stream.Message[int]) { calls = append(calls, "int") })
	stream.Handle(r, "x", func(m stream.Message[string]) { calls = append(calls, "string") })
	stream.Handle(r, "x", func(m stream.Message[json.RawMessage]) { calls = append(calls, "raw") })

	err := r.Dispatch(env("x", `5`))
	var de *stream.DecodeError
	require.ErrorAs(t, err, &de, "the string handler could not decode 5")
	require.Equal(t, []string{"int", "raw"}, calls, "the others still ran")

	calls = nil
	err = r.Dispatch(env("x", `{}`))
	var errs interface{ Unwrap() []error }
	require.ErrorAs(t, err, &errs)
	require.Len(t, errs.Unwrap(), 2, "both failures are reported")
	require.Equal(t, []string{"raw"}, calls)
}

func TestHandleRemove(t *testing.T) {
	r := stream.NewRouter()
	n := 0
	remove := stream.Handle(r, "x", func(stream.Message[int]) { n++ })
	require.NoError(t, r.Dispatch(env("x", `1`)))
	remove()
	remove() // idempotent
	require.ErrorIs(t, r.Dispatch(env("x", `1`)), stream.ErrUnknownType)
	require.Equal(t, 1, n)
}

func TestRouteReplacesClosedHub(t *testing.T) {
	r := stream.NewRouter()
	first := stream.Route[int](r, "n")
	first.Close()
	second := stream.Route[int](r, "n")
	require.NotSame(t, first, second)
	sub := second.Subscribe(context.Background())
	require.NoError(t, r.Dispatch(env("n", `3`)))
	require.Equal(t, 3, recv(t, sub.C()).Data)
	r.Close()
}

func TestRouterClose(t *testing.T) {
	r := stream.NewRouter()
	stream.Handle(r, "x", func(stream.Message[int]) {})
	r.Close()
	r.Close()
	require.ErrorIs(t, r.Dispatch(env("x", `1`)), stream.ErrClosed)
	closed := stream.Route[int](r, "x")
	s := closed.Subscribe(context.Background())
	waitClosed(t, s.Done())
	stream.Handle(r, "y", func(stream.Message[int]) {})() // no-op, no panic
}

func TestZeroRouterIsUsable(t *testing.T) {
	var r stream.Router
	require.Equal(t, "json", r.Codec().Name())
	require.ErrorIs(t, r.Dispatch(env("x", `1`)), stream.ErrUnknownType)
	got := 0
	stream.Handle(&r, "x", func(m stream.Message[int]) { got = m.Data })
	require.NoError(t, r.DispatchPayload([]byte(`{"type":"x","data":9}`)))
	require.Equal(t, 9, got)
	r.Close()
}

func TestRouterCustomCodec(t *testing.T) {
	boom := errors.New("boom")
	r := stream.NewRouter(stream.WithCodec(failCodec{err: boom}), stream.WithCodec(nil))
	require.Equal(t, "fail", r.Codec().Name(), "nil is ignored")
	err := r.DispatchPayload([]byte(`{}`))
	require.ErrorIs(t, err, boom)
}

func TestRouterConcurrentRegistrationAndDispatch(t *testing.T) {
	r := stream.NewRouter()
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	types := []string{"a", "b", "c", "d"}
	for _, typ := range types {
		wg.Go(func() {
			for range 50 {
				remove := stream.Handle(r, typ, func(stream.Message[int]) {
					mu.Lock()
					counts[typ]++
					mu.Unlock()
				})
				h := stream.Route[int](r, typ)
				s := h.Subscribe(context.Background(), stream.WithBuffer(1))
				remove()
				s.Close()
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for i := range 500 {
				err := r.Dispatch(env(types[i%len(types)], `1`))
				if err != nil {
					assert.ErrorIs(t, err, stream.ErrUnknownType)
				}
			}
		})
	}
	wg.Wait()
	r.Close()
}

// Unblock, the owner's stop, cuts the Dispatch in progress short: a
// handler that stops the owner is the last registration to get the
// envelope, and Dispatch says how many missed it.
func TestUnblockCutsTheDispatchInProgress(t *testing.T) {
	r := stream.NewRouter()
	var got []string
	stream.Handle(r, "alert", func(stream.Message[alert]) { got = append(got, "first"); r.Unblock() })
	stream.Handle(r, "alert", func(stream.Message[alert]) { got = append(got, "second") })
	routed := stream.Route[alert](r, "alert").Subscribe(context.Background(), stream.WithBuffer(1))
	defer routed.Close()

	err := r.Dispatch(env("alert", `{"level":"high"}`))
	assert.Equal(t, []string{"first"}, got)
	require.ErrorIs(t, err, stream.ErrCut)
	var re *stream.RouteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 2, re.Missed, "the second handler and the routed hub")
	select {
	case m := <-routed.C():
		assert.Fail(t, "the routed hub got the envelope", "%+v", m)
	default:
	}

	// With one registration there is nothing to cut.
	one := stream.NewRouter()
	var n int
	stream.Handle(one, "alert", func(stream.Message[alert]) { n++; one.Unblock() })
	require.NoError(t, one.Dispatch(env("alert", `{}`)))
	require.NoError(t, one.Dispatch(env("alert", `{}`)))
	assert.Equal(t, 2, n)
}
