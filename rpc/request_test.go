package rpc_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/rpc"
)

// 1,000 requests in flight at once, answered in the reverse order: each
// gets its own reply, matched by id.
func TestRepliesMatchedUnderConcurrency(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	const n = 1000

	var wg sync.WaitGroup
	got := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = rpc.Call[int](context.Background(), r.rc, "echo", []int{i})
		})
	}
	reqs := make([]msg, 0, n)
	for range n {
		reqs = append(reqs, s.mustRecv())
	}
	for i := n - 1; i >= 0; i-- {
		var params []int
		require.NoError(t, json.Unmarshal(reqs[i].Params, &params))
		s.reply(reqs[i].ID, params[0])
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, i, got[i])
	}
}

// A request that gets no reply fails with ErrTimeout when its timeout
// runs out on the fake clock, and its trace says so.
func TestTimeout(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	req := r.rc.Go(context.Background(), "slow", nil, rpc.Timeout(5e9))
	s.mustRecv()
	require.NoError(t, r.clk.BlockUntil(ctxT(t), 1))
	r.clk.Step(5e9)
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrTimeout)
	assert.Equal(t, rpc.TimedOut, req.State())
	assert.Equal(t, []rpc.RequestState{rpc.Pending, rpc.TimedOut}, states(req.Trace()))
	assert.Equal(t, "slow id 1", req.Trace()[1].Transport)

	// Its late reply answers nothing: reported, typed.
	errs := r.rc.Errors(ctxT(t))
	defer errs.Close()
	s.reply(req.ID(), "late")
	var unknown *rpc.UnknownReplyError
	require.ErrorAs(t, waitErr(t, errs, rpc.ErrUnknownReply), &unknown)
	assert.Equal(t, req.ID(), unknown.ID)
}

// A request whose connection ends before the reply fails with ErrLost,
// which also matches the connection's cause.
func TestLostOnDisconnect(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	req := r.rc.Go(context.Background(), "sum", []int{1, 2})
	s.mustRecv()
	s.sc.Drop()
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrLost)
	assert.Equal(t, []rpc.RequestState{rpc.Pending, rpc.Lost}, states(req.Trace()))
}

// An idempotent request whose connection ends is sent again, with its id,
// on the next connection, and gets its reply there.
func TestIdempotentRetry(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	req := r.rc.Go(context.Background(), "sum", []int{1, 2}, rpc.Idempotent())
	first := s.mustRecv()
	s.sc.Drop()
	require.NoError(t, r.clk.BlockUntil(ctxT(t), 2)) // the reconnect delay and the request's timeout
	r.clk.Step(1e9)
	s2 := r.accept()
	again := s2.mustRecv()
	assert.Equal(t, first.ID, again.ID)
	assert.Equal(t, "sum", again.Method)
	s2.reply(again.ID, 3)
	res, err := req.Wait(ctxT(t))
	require.NoError(t, err)
	assert.JSONEq(t, "3", string(res))
	trace := req.Trace()
	assert.Equal(t, []rpc.RequestState{rpc.Pending, rpc.Pending, rpc.Replied}, states(trace))
	assert.Equal(t, rpc.EventRetry, trace[1].Event)
	assert.Equal(t, 1, trace[1].Attempt)
}

// Cancelling a request's ctx ends it with ctx's error.
func TestCancel(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	ctx, cancel := context.WithCancel(context.Background())
	req := r.rc.Go(ctx, "slow", nil)
	s.mustRecv()
	cancel()
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, rpc.Cancelled, req.State())
}

// A reply with an error object is a *RemoteError.
func TestRemoteError(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	done := make(chan error, 1)
	go func() {
		_, err := r.rc.Request(context.Background(), "boom", nil)
		done <- err
	}()
	m := s.mustRecv()
	s.mustSend(map[string]any{"jsonrpc": "2.0", "id": m.ID,
		"error": map[string]any{"code": -32000, "message": "Error", "data": "it broke"}})
	err := <-done
	var remote *rpc.RemoteError
	require.ErrorAs(t, err, &remote)
	assert.Equal(t, -32000, remote.Code)
	assert.JSONEq(t, `"it broke"`, string(remote.Data))
}

// A malformed reply fails its request with a typed error; the other
// requests and messages are not affected, and a payload the protocol does
// not know flows on to the tether client's streams.
func TestMalformedReply(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	msgs := r.tc.Messages(ctxT(t))
	defer msgs.Close()
	bad := r.rc.Go(context.Background(), "bad", nil)
	good := r.rc.Go(context.Background(), "good", nil)
	mb, mg := s.mustRecv(), s.mustRecv()
	s.mustSend(map[string]any{"jsonrpc": "2.0", "id": mb.ID, "result": 1, "error": map[string]any{"code": 1, "message": "x"}})
	s.mustSend("not json at all")
	s.reply(mg.ID, "fine")

	_, err := bad.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrMalformedReply)
	var me *rpc.MalformedReplyError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, mb.ID, me.ID)
	assert.Equal(t, rpc.Malformed, bad.State())
	res, err := good.Wait(ctxT(t))
	require.NoError(t, err)
	assert.JSONEq(t, `"fine"`, string(res))
	select {
	case m := <-msgs.C():
		assert.Equal(t, "not json at all", m)
	case <-ctxT(t).Done():
		require.FailNow(t, "the unknown payload did not reach Messages")
	}
}

// A reply with an id no request has is reported on Errors, typed.
func TestUnknownReplyID(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	errs := r.rc.Errors(ctxT(t))
	defer errs.Close()
	s.mustSend(map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{"code": -32700, "message": "Parse error"}})
	var unknown *rpc.UnknownReplyError
	err := waitErr(t, errs, rpc.ErrUnknownReply)
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, uint64(0), unknown.ID)
	var remote *rpc.RemoteError
	require.ErrorAs(t, err, &remote)
	assert.Equal(t, -32700, remote.Code)
}

// A request made while disconnected waits in the send buffer and goes
// out after the next Open, where its reply ends it.
func TestRequestWaitsWhileDisconnected(t *testing.T) {
	r := newRig(t, tether.WithAutoConnect(false))
	req := r.rc.Go(context.Background(), "sum", []int{2, 3})
	assert.Equal(t, rpc.Pending, req.State())
	n, _ := r.tc.Buffered()
	assert.Equal(t, 1, n)
	r.connect()
	s := r.accept()
	m := s.mustRecv()
	assert.Equal(t, req.ID(), m.ID)
	s.reply(m.ID, 5)
	res, err := req.Wait(ctxT(t))
	require.NoError(t, err)
	assert.JSONEq(t, "5", string(res))
}

// TestTimedOutInTheBufferStillGoesOut: TimedOut says the caller stopped
// waiting, not that the request was not sent, as docs/framework.md says:
// a request that timed out in the send buffer goes out at the next Open,
// and its reply is an *UnknownReplyError.
func TestTimedOutInTheBufferStillGoesOut(t *testing.T) {
	r := newRig(t, tether.WithAutoConnect(false))
	req := r.rc.Go(context.Background(), "sum", []int{2, 3}, rpc.Timeout(5e9))
	require.NoError(t, r.clk.BlockUntil(ctxT(t), 1))
	r.clk.Step(5e9)
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrTimeout)
	n, _ := r.tc.Buffered()
	assert.Equal(t, 1, n, "still in the send buffer")

	errs := r.rc.Errors(ctxT(t))
	defer errs.Close()
	r.connect()
	s := r.accept()
	m := s.mustRecv()
	assert.Equal(t, req.ID(), m.ID, "written at Open")
	s.reply(m.ID, 5)
	var unknown *rpc.UnknownReplyError
	require.ErrorAs(t, waitErr(t, errs, rpc.ErrUnknownReply), &unknown)
	assert.Equal(t, req.ID(), unknown.ID)
	assert.Equal(t, rpc.TimedOut, req.State(), "the request's end does not change")
}

// Close ends what is pending with ErrLost wrapping ErrClosed; later calls
// fail with ErrClosed.
func TestCloseEndsPending(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	req := r.rc.Go(context.Background(), "slow", nil)
	s.mustRecv()
	require.NoError(t, r.rc.Close())
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrLost)
	require.ErrorIs(t, err, rpc.ErrClosed)
	_, err = r.rc.Request(context.Background(), "sum", nil)
	require.ErrorIs(t, err, rpc.ErrClosed)
}
