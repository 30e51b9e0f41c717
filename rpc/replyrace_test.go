package rpc_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/stream"
)

// TestAReplyThatLosesTheRaceToItsEndIsReported: a reply that reaches its
// request as the request's ctx ends is either the request's reply or an
// *UnknownReplyError: every reply the server sent is one or the other. An
// outside review saw 23-49 of 20,000 replies vanish, the request found
// pending but ended before the reply's event (it was fired and refused
// without a word).
func TestAReplyThatLosesTheRaceToItsEndIsReported(t *testing.T) {
	const n = 3000
	r := newRig(t)
	r.connect()
	s := r.accept()
	errs := r.rc.Errors(ctxT(t), stream.WithOverflow(stream.Block), stream.WithBuffer(n+1))
	defer errs.Close()

	served := make(chan int, 1)
	go func() { // reply to every request, until "end"
		ctx, replies := ctxT(t), 0
		for {
			m, err := s.recv(ctx)
			if err != nil {
				served <- -1
				return
			}
			if s.send(ctx, map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": 1}) != nil {
				served <- -1
				return
			}
			replies++
			if m.Method == "end" {
				served <- replies
				return
			}
		}
	}()
	reqs := make([]*rpc.Request, n)
	cancels := make([]context.CancelFunc, n)
	for i := range reqs {
		ctx, cancel := context.WithCancel(context.Background())
		reqs[i], cancels[i] = r.rc.Go(ctx, "sum", nil), cancel
	}
	for _, cancel := range cancels { // racing the replies
		cancel()
	}
	_, err := r.rc.Request(ctxT(t), "end", nil) // its reply comes after every other
	require.NoError(t, err)
	replies := <-served
	require.Positive(t, replies, "the server failed")

	taken := 1 // end's
	for _, q := range reqs {
		if _, err := q.Wait(ctxT(t)); err == nil {
			taken++
		} else {
			require.ErrorIs(t, err, context.Canceled)
		}
	}
	unknown := 0
	for more := true; more; {
		select {
		case err := <-errs.C():
			if e := (*rpc.UnknownReplyError)(nil); errors.As(err, &e) {
				unknown++
			}
		default:
			more = false
		}
	}
	assert.Equal(t, replies, taken+unknown, "%d replies: %d taken, %d reported unknown", replies, taken, unknown)
}
