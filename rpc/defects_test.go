package rpc_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/stream"
)

// TestJoinLeaveRace: readers join and leave one topic while its
// notifications stream. A leaving reader used to delete itself from the
// readers list in place, under the feet of a delivery iterating a
// snapshot of it (a data race, and a nil reader called on the reader
// goroutine).
func TestJoinLeaveRace(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	keep := subscribe[int](t, r, s, "tick", "k")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the server streams notifications until stop
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if !assert.NoError(t, s.send(context.Background(), map[string]any{"jsonrpc": "2.0",
				"method": "test_subscription", "params": map[string]any{"subscription": "k", "result": i}})) {
				return
			}
		}
	})
	wg.Go(func() { // the keeper reads them all
		for range keep.C() {
		}
	})
	var joiners sync.WaitGroup
	for range 4 {
		joiners.Go(func() {
			for range 300 {
				sub, err := rpc.SubscribeTo[int](context.Background(), r.rc, "tick", nil)
				if assert.NoError(t, err) {
					sub.Close()
				}
			}
		})
	}
	joiners.Wait()
	close(stop)
	keep.Close()
	wg.Wait()
	m := s.mustRecv()
	require.Equal(t, "test_unsubscribe", m.Method)
	s.reply(m.ID, true)
	require.NoError(t, r.rc.Close()) // waits for the unsubscribe's answer
	assert.Equal(t, rpc.Unsubscribed, keep.State())
}

// TestGoBlocksWhenBufferFull: with the tether client's send buffer full
// (policy Block), Go waits for room at most until the request's timeout:
// it used to block in Send forever, its timeout ignored.
func TestGoBlocksWhenBufferFull(t *testing.T) {
	r := newRig(t, tether.WithAutoConnect(false), tether.WithSendBuffer(2, 1<<20, stream.Block))
	a := r.rc.Go(context.Background(), "a", nil, rpc.Timeout(5e9))
	b := r.rc.Go(context.Background(), "b", nil, rpc.Timeout(5e9))
	third := make(chan *rpc.Request, 1)
	go func() { third <- r.rc.Go(context.Background(), "c", nil, rpc.Timeout(5e9)) }()
	require.NoError(t, r.clk.BlockUntil(ctxT(t), 3)) // three timeouts armed, the third Go waiting for room
	r.clk.Step(5e9)
	var c *rpc.Request
	select {
	case c = <-third:
	case <-ctxT(t).Done():
		require.FailNow(t, "Go still blocked after its timeout")
	}
	for _, req := range []*rpc.Request{a, b, c} {
		_, err := req.Wait(ctxT(t))
		require.ErrorIs(t, err, rpc.ErrTimeout)
		assert.Equal(t, rpc.TimedOut, req.State())
	}

	// The caller's ctx ends the wait too: Cancelled. (a and b still fill
	// the buffer: the tether client does not know they timed out.)
	ctx, cancel := context.WithCancel(context.Background())
	fourth := make(chan *rpc.Request, 1)
	go func() { fourth <- r.rc.Go(ctx, "d", nil) }()
	require.NoError(t, r.clk.BlockUntil(ctxT(t), 1))
	cancel()
	var d *rpc.Request
	select {
	case d = <-fourth:
	case <-ctxT(t).Done():
		require.FailNow(t, "Go still blocked after its ctx ended")
	}
	_, err := d.Wait(ctxT(t))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, rpc.Cancelled, d.State())
}

// TestCloseThenResubscribe: the last reader closes and a new one
// subscribes to the same topic at once. The server must see the
// unsubscribe before the new subscribe: a new subscription waits for the
// unsubscribe in flight to be answered. (It used to send its subscribe at
// once, racing the unsubscribe sent in the background: about half the
// cycles showed subscribe, subscribe, unsubscribe.)
func TestCloseThenResubscribe(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	sub := subscribe[int](t, r, s, "tick", "k0")
	for i := range 50 {
		sub.Close()
		done := make(chan *rpc.Subscription[int], 1)
		go func() {
			next, err := rpc.SubscribeTo[int](context.Background(), r.rc, "tick", nil)
			assert.NoError(t, err)
			done <- next
		}()
		m := s.mustRecv()
		require.Equal(t, "test_unsubscribe", m.Method, "cycle %d: the unsubscribe comes first", i)
		s.reply(m.ID, true)
		m = s.mustRecv()
		require.Equal(t, "test_subscribe", m.Method, "cycle %d", i)
		s.reply(m.ID, fmt.Sprintf("k%d", i+1))
		select {
		case sub = <-done:
		case <-ctxT(t).Done():
			require.FailNow(t, "no subscription")
		}
		require.NotNil(t, sub)
		require.Equal(t, rpc.Subscribed, sub.State())
	}
	sub.Close()
	m := s.mustRecv()
	require.Equal(t, "test_unsubscribe", m.Method)
	s.reply(m.ID, true)
}

// TestUnclaimedMessagesDoNotStall: a program that uses only rpc never
// reads the tether client's Messages. Messages rpc does not claim used to
// be held for a first consumer (tether's WithHold(256)), and the 257th
// stopped the reader: every request after it timed out. rc.Options turns
// holding off.
func TestUnclaimedMessagesDoNotStall(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	req := r.rc.Go(context.Background(), "after", nil)
	m := s.mustRecv()
	for i := range 300 {
		s.mustSend(map[string]any{"jsonrpc": "2.0", "method": "server_event", "params": []int{i}})
	}
	s.reply(m.ID, "fine")
	res, err := req.Wait(ctxT(t))
	require.NoError(t, err)
	assert.JSONEq(t, `"fine"`, string(res))
}

// TestSlowSubscriptionReaderClosed: a reader that stops reading fills its
// queue (Block) and holds the connection's reader; closing it lets the
// reader go, and the notifications still coming for the subscription
// until its unsubscribe is answered do not stall the connection either.
func TestSlowSubscriptionReaderClosed(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	type result struct {
		sub *rpc.Subscription[int]
		err error
	}
	done := make(chan result, 1)
	go func() {
		sub, err := rpc.SubscribeTo[int](context.Background(), r.rc, "feed", nil, stream.WithBuffer(4))
		done <- result{sub, err}
	}()
	m := s.mustRecv()
	s.reply(m.ID, "k")
	res := <-done
	require.NoError(t, res.err)
	for i := range 10 { // 4 queued, the 5th holds the reader
		s.notify("k", i)
	}
	req := r.rc.Go(context.Background(), "m", nil)
	mr := s.mustRecv()
	s.reply(mr.ID, 1) // not read yet: the reader is held
	res.sub.Close()
	_, err := req.Wait(ctxT(t))
	require.NoError(t, err)
	u := s.mustRecv()
	require.Equal(t, "test_unsubscribe", u.Method)
	for i := range 300 { // still coming, before the server reads the unsubscribe
		s.notify("k", i)
	}
	s.reply(u.ID, true)
	req = r.rc.Go(context.Background(), "m", nil)
	mr = s.mustRecv()
	s.reply(mr.ID, 2)
	_, err = req.Wait(ctxT(t))
	require.NoError(t, err)
}

// TestUserHoldWins: a tether.WithHold given after rc.Options() wins over
// its WithHold(0): what arrives before the first Messages subscriber is
// held for it.
func TestUserHoldWins(t *testing.T) {
	r := newRig(t, tether.WithHold(8))
	r.connect()
	s := r.accept()
	req := r.rc.Go(context.Background(), "after", nil)
	m := s.mustRecv()
	s.mustSend(map[string]any{"jsonrpc": "2.0", "method": "greeting", "params": []int{1}})
	s.reply(m.ID, "fine")
	_, err := req.Wait(ctxT(t)) // read after the greeting: it is held by now
	require.NoError(t, err)
	msgs := r.tc.Messages(ctxT(t))
	defer msgs.Close()
	select {
	case got := <-msgs.C():
		assert.JSONEq(t, `{"jsonrpc":"2.0","method":"greeting","params":[1]}`, got)
	case <-ctxT(t).Done():
		require.FailNow(t, "the greeting was not held")
	}
}

// TestErrorsNotRead: a subscriber of rc.Errors that never reads loses
// the oldest errors, counted, instead of holding the connection's reader
// (it used to block at 256 and wedge every request).
func TestErrorsNotRead(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	es := r.rc.Errors(ctxT(t)) // never read
	defer es.Close()
	req := r.rc.Go(context.Background(), "after", nil)
	m := s.mustRecv()
	for i := range 400 {
		s.reply(uint64(100000+i), 1) // replies to no pending request
	}
	s.reply(m.ID, "fine")
	_, err := req.Wait(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, uint64(400-stream.DefaultBuffer), es.Dropped())
	var unknown *rpc.UnknownReplyError
	require.ErrorAs(t, <-es.C(), &unknown)
	assert.Equal(t, uint64(100000+400-stream.DefaultBuffer), unknown.ID, "the oldest were dropped")
}

// TestQueuedNeverSentThenTetherClose: requests waiting in the send buffer
// of a tether client that never opened were never written: when it
// closes they end Unsent (with tether.ErrClosed), not Lost, which says
// the server may have run them. (They used to end Lost.)
func TestQueuedNeverSentThenTetherClose(t *testing.T) {
	r := newRig(t, tether.WithAutoConnect(false))
	var reqs []*rpc.Request
	for i := range 3 {
		reqs = append(reqs, r.rc.Go(context.Background(), "sum", []int{i}))
	}
	require.NoError(t, r.tc.Close(ctxT(t)))
	for _, req := range reqs {
		_, err := req.Wait(ctxT(t))
		require.ErrorIs(t, err, tether.ErrClosed)
		assert.NotErrorIs(t, err, rpc.ErrLost)
		assert.Equal(t, rpc.Unsent, req.State())
	}
}

// TestWrittenThenTetherClose: a request written on the open connection
// still ends Lost when the tether client closes.
func TestWrittenThenTetherClose(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	req := r.rc.Go(context.Background(), "slow", nil)
	s.mustRecv()
	require.NoError(t, r.tc.Close(ctxT(t)))
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrLost)
	assert.Equal(t, rpc.Lost, req.State())
}

// TestRetriedThenTetherClose: an idempotent request written on a
// connection that ended waits to be sent again; when the tether client
// closes first it ends Lost (it was written once: it may have run).
func TestRetriedThenTetherClose(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	req := r.rc.Go(context.Background(), "sum", nil, rpc.Idempotent())
	s.mustRecv()
	s.sc.Drop()
	require.NoError(t, r.clk.BlockUntil(ctxT(t), 2)) // the reconnect delay and the request's timeout
	require.NoError(t, r.tc.Close(ctxT(t)))
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrLost)
	assert.Equal(t, rpc.Lost, req.State())
}

// TestCloseDuringResubscribe: rc.Close while the Resubscribing stage
// waits for an answer ends the stage at once (it passes: nothing is left
// to make again), and later connections do not wait in the stage either.
// (The stage used to run until its timeout, 30 s, on the clock.)
func TestCloseDuringResubscribe(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	news := subscribe[string](t, r, s, "news", "a")

	s2 := r.redial(s)
	m := s2.mustRecv()
	require.Equal(t, "test_subscribe", m.Method) // never answered
	require.Equal(t, rpc.ResubscribeStage, r.tc.State())
	require.NoError(t, r.rc.Close())
	require.True(t, r.tc.WaitForStateChange(ctxT(t), rpc.ResubscribeStage), "the stage ends without the clock")
	require.NoError(t, r.tc.Connect(ctxT(t)))
	assert.Equal(t, rpc.Unsubscribed, news.State())
	require.ErrorIs(t, news.Err(), rpc.ErrClosed)

	// The next connection passes the stage at once too.
	r.redial(s2)
	require.NoError(t, r.tc.Connect(ctxT(t)))
}

// TestUnknownReplyNoID: a reply whose id the protocol could not read has
// ID 0, and its message does not claim the reply said "id 0".
func TestUnknownReplyNoID(t *testing.T) {
	assert.NotContains(t, (&rpc.UnknownReplyError{}).Error(), "id 0")
	assert.Contains(t, (&rpc.UnknownReplyError{ID: 7}).Error(), "id 7")
}
