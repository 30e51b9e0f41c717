package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// errReset is the write error a failingConn returns: a connection failure
// in the middle of a write, after the bytes may have left (a reset, a
// broken pipe).
var errReset = errors.New("test: write: connection reset by peer")

// failingTransport dials through another transport and wraps each
// connection in a failingConn sharing fails.
type failingTransport struct {
	transport.Transport
	marker []byte
	fails  *atomic.Int32
}

func (f failingTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := f.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return &failingConn{Conn: c, marker: f.marker, fails: f.fails}, nil
}

// failingConn writes every message, and returns errReset from the Write of
// a message containing marker while fails is above zero (counting it
// down): the message went out, the writer was told it failed. The
// connection stays up until the test drops it.
type failingConn struct {
	transport.Conn
	marker []byte
	fails  *atomic.Int32
}

func (c *failingConn) Write(ctx context.Context, typ transport.MessageType, p []byte) error {
	if err := c.Conn.Write(ctx, typ, p); err != nil {
		return err
	}
	if bytes.Contains(p, c.marker) && c.fails.Add(-1) >= 0 {
		return fmt.Errorf("tether/memory: write: %w", errReset)
	}
	return nil
}

// Unwrap returns the memory connection: Read is its Read.
func (c *failingConn) Unwrap() transport.Conn { return c.Conn }

// newFailingRig is a rig whose writes of a message containing marker fail
// (see failingConn), fails times in all.
func newFailingRig(t *testing.T, marker string, fails int32) *rig {
	t.Helper()
	n := new(atomic.Int32)
	n.Store(fails)
	return newRigVia(t, func(tr transport.Transport) transport.Transport {
		return failingTransport{Transport: tr, marker: []byte(marker), fails: n}
	})
}

// writesAtOnce returns once the tether client writes a message at once
// rather than through its send buffer (the connection reports Open a
// moment before the buffer takes it; a notification sent meanwhile is
// flushed to it): a Go made next meets the failing write itself.
func writesAtOnce(t *testing.T, r *rig, s *server) {
	t.Helper()
	require.NoError(t, r.rc.Notify(ctxT(t), "warm", nil))
	require.NoError(t, r.tc.Flush(ctxT(t)))
	require.Equal(t, "warm", s.mustRecv().Method)
}

// TestWriteFailedIdempotentSentAgain: the write of an idempotent request
// fails with a connection error (it may have arrived): the request is sent
// again, with its id, on the next connection, and gets its reply there.
// (It used to end Unsent at once with the raw write error, which matched
// no rpc sentinel.)
func TestWriteFailedIdempotentSentAgain(t *testing.T) {
	r := newFailingRig(t, `"flaky"`, 1)
	r.connect()
	s := r.accept()
	writesAtOnce(t, r, s)
	req := r.rc.Go(context.Background(), "flaky", []int{1, 2}, rpc.Idempotent())
	first := s.mustRecv() // it arrived, though its write failed
	require.Equal(t, rpc.Pending, req.State(), "Result: %v", func() error { _, err := req.Result(); return err }())

	s.sc.Drop()
	require.NoError(t, r.clk.BlockUntil(ctxT(t), 2)) // the reconnect delay and the request's timeout
	r.clk.Step(1e9)
	s2 := r.accept()
	again := s2.mustRecv()
	assert.Equal(t, first.ID, again.ID)
	assert.Equal(t, "flaky", again.Method)
	s2.reply(again.ID, 3)
	res, err := req.Wait(ctxT(t))
	require.NoError(t, err)
	assert.JSONEq(t, "3", string(res))
	trace := req.Trace()
	assert.Equal(t, []rpc.RequestState{rpc.Pending, rpc.Pending, rpc.Replied}, states(trace))
	assert.Equal(t, rpc.EventRetry, trace[1].Event)
}

// TestWriteFailedLost: the write of a request that is not idempotent
// fails with a connection error: it may have arrived, so it ends Lost,
// its error matching both ErrLost and the write's error. (It used to end
// Unsent, which says it was never written.)
func TestWriteFailedLost(t *testing.T) {
	r := newFailingRig(t, `"flaky"`, 1)
	r.connect()
	s := r.accept()
	writesAtOnce(t, r, s)
	req := r.rc.Go(context.Background(), "flaky", nil)
	s.mustRecv()
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, rpc.ErrLost)
	require.ErrorIs(t, err, errReset)
	assert.Equal(t, rpc.Lost, req.State())
	trace := req.Trace()
	assert.Equal(t, rpc.EventLost, trace[len(trace)-1].Event)
}

// TestRefusedBeforeWritingUnsent: a request the tether client refuses
// before writing anything (too large for its send buffer while
// disconnected) still ends Unsent, with the refusal, and is not lost.
func TestRefusedBeforeWritingUnsent(t *testing.T) {
	r := newRig(t, tether.WithAutoConnect(false), tether.WithSendBuffer(8, 64, stream.Block))
	req := r.rc.Go(context.Background(), "big", string(bytes.Repeat([]byte("x"), 100)), rpc.Idempotent())
	_, err := req.Wait(ctxT(t))
	require.ErrorIs(t, err, tether.ErrTooLargeToQueue)
	assert.NotErrorIs(t, err, rpc.ErrLost)
	assert.Equal(t, rpc.Unsent, req.State())
}
