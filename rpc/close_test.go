package rpc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/rpc"
)

// TestTetherCloseEndsWithClosed: what the tether client's Close ends
// matches rpc.ErrClosed (a Close ended it, not the network) and
// tether.ErrClosed: a request written and pending ends Lost (it may have
// run: ErrLost too), an idempotent one as well (no connection follows to
// send it again on), a request made afterwards ends Unsent, and a
// subscription ends. (Pending requests used to end with a bare ErrLost,
// no cause; idempotent ones with tether.ErrClosed alone.)
func TestTetherCloseEndsWithClosed(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	news := subscribe[string](t, r, s, "news", "k")
	plain := r.rc.Go(context.Background(), "slow", nil)
	s.mustRecv()
	idem := r.rc.Go(context.Background(), "slow", nil, rpc.Idempotent())
	s.mustRecv()
	require.NoError(t, r.tc.Close(ctxT(t)))

	for _, req := range []*rpc.Request{plain, idem} {
		_, err := req.Wait(ctxT(t))
		require.ErrorIs(t, err, rpc.ErrLost)
		require.ErrorIs(t, err, rpc.ErrClosed)
		require.ErrorIs(t, err, tether.ErrClosed)
		assert.Equal(t, []rpc.RequestState{rpc.Pending, rpc.Lost}, states(req.Trace()))
	}

	after, err := r.rc.Request(context.Background(), "sum", nil)
	assert.Nil(t, after)
	require.ErrorIs(t, err, rpc.ErrClosed)
	require.ErrorIs(t, err, tether.ErrClosed)
	assert.NotErrorIs(t, err, rpc.ErrLost)

	ended(t, news)
	require.ErrorIs(t, news.Err(), rpc.ErrClosed)
	require.ErrorIs(t, news.Err(), tether.ErrClosed)
}

// TestQueuedThenTetherCloseClosed: a request still in the send buffer of
// a tether client that never opened ends Unsent, matching rpc.ErrClosed
// and tether.ErrClosed, not ErrLost.
func TestQueuedThenTetherCloseClosed(t *testing.T) {
	r := newRig(t, tether.WithAutoConnect(false))
	req := r.rc.Go(context.Background(), "sum", nil)
	require.NoError(t, r.tc.Close(ctxT(t)))
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrClosed)
	require.ErrorIs(t, err, tether.ErrClosed)
	assert.NotErrorIs(t, err, rpc.ErrLost)
	assert.Equal(t, rpc.Unsent, req.State())
}

// TestDroppedNotClosed: a request whose connection the network ended is
// lost with the connection's cause, and does not match rpc.ErrClosed: the
// caller tells a drop from its own Close.
func TestDroppedNotClosed(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	req := r.rc.Go(context.Background(), "slow", nil)
	s.mustRecv()
	s.sc.Drop()
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrLost)
	assert.NotErrorIs(t, err, rpc.ErrClosed)
	assert.NotErrorIs(t, err, tether.ErrClosed)
}

// TestRPCCloseNotTetherClosed: the rpc client's own Close ends a pending
// request Lost with rpc.ErrClosed; the tether client, still open, is not
// named.
func TestRPCCloseNotTetherClosed(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	req := r.rc.Go(context.Background(), "slow", nil)
	s.mustRecv()
	require.NoError(t, r.rc.Close())
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrLost)
	require.ErrorIs(t, err, rpc.ErrClosed)
	assert.NotErrorIs(t, err, tether.ErrClosed)
}
