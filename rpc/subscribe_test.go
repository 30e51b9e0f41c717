package rpc_test

import (
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/stream"
)

// next reads one value from a subscription, on the test goroutine.
func next[T any](t *testing.T, s *rpc.Subscription[T]) T {
	t.Helper()
	select {
	case v, ok := <-s.C():
		require.True(t, ok, "the subscription ended: %v", s.Err())
		return v
	case <-ctxT(t).Done():
		require.FailNow(t, "no notification")
	}
	panic("unreachable")
}

// subscribe subscribes in the background, with opts, and answers the
// subscribe request with key.
func subscribe[T any](t *testing.T, r *rig, s *server, topic, key string, opts ...stream.SubOption) *rpc.Subscription[T] {
	t.Helper()
	type result struct {
		sub *rpc.Subscription[T]
		err error
	}
	done := make(chan result, 1)
	go func() {
		sub, err := rpc.SubscribeTo[T](context.Background(), r.rc, topic, nil, opts...)
		done <- result{sub, err}
	}()
	m := s.mustRecv()
	require.Equal(t, "test_subscribe", m.Method)
	require.JSONEq(t, `["`+topic+`"]`, string(m.Params))
	s.reply(m.ID, key)
	res := <-done
	require.NoError(t, res.err)
	return res.sub
}

// After a reconnect every subscription is made again in the Resubscribing
// stage, answered, before the client reports ready (Open); notifications
// then follow the new subscription id.
func TestResubscribedBeforeOpen(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	news := subscribe[string](t, r, s, "news", "a")
	s.notify("a", "first")
	assert.Equal(t, "first", next(t, news))

	trs := r.tc.Transitions(ctxT(t))
	defer trs.Close()
	s2 := r.redial(s)
	m := s2.mustRecv()
	assert.Equal(t, "test_subscribe", m.Method)
	assert.Equal(t, rpc.ResubscribeStage, r.tc.State(), "the client is not ready before the subscription is back")
	s2.reply(m.ID, "b")
	r.connect()

	// The stage came between the socket's opening and Open.
	var seen []fsm.State
	for tr := range trs.All() {
		seen = append(seen, tr.To)
		if tr.To == fsm.Open && len(seen) > 1 {
			break
		}
	}
	assert.Equal(t, []fsm.State{fsm.Open, fsm.Waiting, fsm.Connecting, rpc.ResubscribeStage, fsm.Open}, seen)

	s2.notify("b", "second")
	assert.Equal(t, "second", next(t, news))
	assert.Equal(t, []rpc.SubState{rpc.Subscribing, rpc.Subscribed, rpc.Resubscribing, rpc.Subscribed},
		states(news.Trace()))
	assert.Equal(t, 1, news.Trace()[3].Attempt, "made again on the second connection")
	news.Close()
}

// Readers of one topic share a subscription; the last to leave
// unsubscribes, and the machine ends Unsubscribed.
func TestUnsubscribeWhenLastReaderLeaves(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	a := subscribe[json.RawMessage](t, r, s, "ticks", "0x1")
	bctx, leave := context.WithCancel(context.Background())
	defer leave()
	b, err := r.rc.Subscribe(bctx, "ticks", nil) // joins: nothing sent
	require.NoError(t, err)
	s.notify("0x1", 7)
	assert.JSONEq(t, "7", string(next(t, a)))
	assert.JSONEq(t, "7", string(next(t, b)))

	a.Close()
	s.notify("0x1", 8) // b still reads
	assert.JSONEq(t, "8", string(next(t, b)))
	leave() // b's ctx ends: b leaves, the last reader
	m := s.mustRecv()
	assert.Equal(t, "test_unsubscribe", m.Method)
	assert.JSONEq(t, `["0x1"]`, string(m.Params))
	s.reply(m.ID, true)
	require.NoError(t, r.rc.Close()) // waits for the unsubscribe to be answered
	assert.Equal(t, rpc.Unsubscribed, b.State())
	assert.Equal(t, []rpc.SubState{rpc.Subscribing, rpc.Subscribed, rpc.Unsubscribing, rpc.Unsubscribed},
		states(b.Trace()))
}

// A subscription the server refuses fails with the server's error.
func TestSubscribeRefused(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	done := make(chan error, 1)
	go func() {
		_, err := r.rc.Subscribe(context.Background(), "nope", nil)
		done <- err
	}()
	m := s.mustRecv()
	s.mustSend(map[string]any{"jsonrpc": "2.0", "id": m.ID, "error": map[string]any{"code": -32601, "message": "Method not found"}})
	var remote *rpc.RemoteError
	require.ErrorAs(t, <-done, &remote)
	assert.Equal(t, -32601, remote.Code)
}

// A notification that does not decode into the reader's type is reported,
// and the next one is delivered.
func TestNotificationDecodeError(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	errs := r.rc.Errors(ctxT(t))
	defer errs.Close()
	n := subscribe[int](t, r, s, "count", "c")
	s.notify("c", "not a number")
	s.notify("c", 3)
	assert.Equal(t, 3, next(t, n))
	de := waitAs[*rpc.DecodeError](t, errs)
	assert.Equal(t, "count", de.Topic)
	n.Close()
}

// TestSubscriptionCountsWhatItDrops: a reader with a dropping policy
// counts what it lost in Dropped (it had no way to tell but stream.OnDrop,
// outside review), and OnDrop among its options sees each.
func TestSubscriptionCountsWhatItDrops(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	var onDrop atomic.Int32
	n := subscribe[int](t, r, s, "count", "c", stream.WithBuffer(1), stream.WithOverflow(stream.DropNewest),
		stream.OnDrop(func(int) { onDrop.Add(1) }))
	defer n.Close()
	for i := range 5 {
		s.notify("c", i)
	}
	require.Eventually(t, func() bool { return n.Dropped() == 4 }, 10*time.Second, time.Millisecond)
	assert.Equal(t, 0, next(t, n), "the first one stayed")
	assert.Equal(t, int32(4), onDrop.Load())
}

// A resubscription the server does not answer fails the stage, and the
// subscription waits for the next connection; one the server refuses ends
// that subscription (its reader's channel closes, Err says why) and the
// connection still becomes ready.
func TestResubscribeRefusedOrUnanswered(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	news := subscribe[string](t, r, s, "news", "a")

	s2 := r.redial(s)
	m := s2.mustRecv()
	require.Equal(t, "test_subscribe", m.Method)
	// No answer: the stage's timeout runs out, the stage fails.
	require.NoError(t, r.clk.BlockUntil(ctxT(t), 2)) // the stage's timeout and the request's
	r.clk.Step(tether.DefaultStageTimeout)
	require.True(t, r.tc.WaitForStateChange(ctxT(t), rpc.ResubscribeStage))
	assert.Equal(t, rpc.Resubscribing, news.State(), "it waits for the next connection")

	// The next connection: the server refuses it.
	require.NoError(t, r.clk.BlockUntil(ctxT(t), 1))
	r.clk.Step(1e9)
	s3 := r.accept()
	m = s3.mustRecv()
	require.Equal(t, "test_subscribe", m.Method)
	s3.mustSend(map[string]any{"jsonrpc": "2.0", "id": m.ID, "error": map[string]any{"code": -32601, "message": "gone"}})
	r.connect()
	_, ok := <-news.C()
	assert.False(t, ok, "the reader's channel closes")
	var remote *rpc.RemoteError
	require.ErrorAs(t, news.Err(), &remote)
	assert.Equal(t, rpc.SubFailed, news.State())
	trace := r.tc.Trace()
	var stageFailed bool
	for _, tr := range trace {
		stageFailed = stageFailed || (tr.From == rpc.ResubscribeStage && tr.Event == fsm.EventStageFailed)
	}
	assert.True(t, stageFailed, "the unanswered resubscription failed the stage")
}

// TestLeaveDuringResubscribe: the last reader leaves while the
// Resubscribing stage's subscribe is unanswered. The server then accepts
// it, so it holds the subscription: the client must unsubscribe (it used
// to go straight to Unsubscribed and send nothing, leaving the server's
// subscription behind).
func TestLeaveDuringResubscribe(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	news := subscribe[string](t, r, s, "news", "a")

	s2 := r.redial(s)
	m := s2.mustRecv()
	require.Equal(t, "test_subscribe", m.Method)
	news.Close() // the last reader leaves before the answer
	assert.Equal(t, rpc.Resubscribing, news.State(), "the answer decides")
	s2.reply(m.ID, "b")
	r.connect()
	u := s2.mustRecv()
	assert.Equal(t, "test_unsubscribe", u.Method, "the server holds it: unsubscribe")
	s2.reply(u.ID, true)
	ctx := ctxT(t)
	for len(news.Trace()) < 6 && ctx.Err() == nil { // the trace follows the state, after the hooks
		runtime.Gosched() // the answer is being read: a few turns
	}
	assert.Equal(t, []rpc.SubState{rpc.Subscribing, rpc.Subscribed, rpc.Resubscribing, rpc.Subscribed,
		rpc.Unsubscribing, rpc.Unsubscribed}, states(news.Trace()))
}

// TestResubscribeRightAfterTheLastReaderLeft: a reader whose ctx ends
// leaves (its Close runs on a goroutine of its own, context.AfterFunc's)
// while a new reader of the same topic subscribes at once. The new one
// could join the topic the last reader had just left, still Subscribed
// until its unsubscribe started, and was then ended with it (an outside
// review saw it in 1 run of 2 of 200 rounds). Now it makes a subscription
// of its own, after the old one's unsubscribe: every reader gets its
// notification.
func TestResubscribeRightAfterTheLastReaderLeft(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	ctx := ctxT(t)
	var last atomic.Value // the key of the latest subscribe
	answered := make(chan error, 1)
	go func() { // the server: a key per subscribe, true for an unsubscribe
		n := 0
		for {
			m, err := s.recv(ctx)
			if err != nil {
				answered <- nil
				return
			}
			var result any = true
			if m.Method == "test_subscribe" {
				n++
				key := "k" + strconv.Itoa(n)
				last.Store(key)
				result = key
			}
			if err := s.send(ctx, map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": result}); err != nil {
				answered <- err
				return
			}
		}
	}()
	for i := range 200 {
		sctx, cancel := context.WithCancel(ctx)
		sub, err := rpc.SubscribeTo[int](sctx, r.rc, "count", nil)
		require.NoError(t, err, "round %d", i)
		s.notify(last.Load().(string), i)
		select {
		case v, ok := <-sub.C():
			require.True(t, ok, "round %d: the new reader was ended: %v (%v)", i, sub.Err(), sub.State())
			require.Equal(t, i, v)
		case <-ctx.Done():
			require.FailNow(t, "no notification", "round %d", i)
		}
		cancel() // the reader leaves on a goroutine of its own; the next subscribes at once
	}
	r.rc.Close()
	s.sc.Drop()
	require.NoError(t, <-answered)
}
