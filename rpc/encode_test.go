package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/stream"
)

// TestParamsEncodeError: params that do not encode fail Go, Request,
// Notify and Subscribe with a *stream.EncodeError, as tether's Send does
// (the codec's error inside it), and the request ends Unsent, never
// written. (They returned encoding/json's raw *json.UnsupportedTypeError.)
func TestParamsEncodeError(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	bad := make(chan int)

	req := r.rc.Go(context.Background(), "sum", bad)
	_, err := req.Wait(ctxT(t))
	ee, ok := errors.AsType[*stream.EncodeError](err)
	require.True(t, ok, "%T: %v", err, err)
	assert.Equal(t, "json", ee.Codec)
	assert.Equal(t, "chan int", ee.Source)
	_, ok = errors.AsType[*json.UnsupportedTypeError](err)
	assert.True(t, ok, "the codec's error is inside")
	assert.Equal(t, rpc.Unsent, req.State())

	_, err = rpc.Call[int](context.Background(), r.rc, "sum", bad)
	_, ok = errors.AsType[*stream.EncodeError](err)
	assert.True(t, ok, "Call: %T: %v", err, err)

	err = r.rc.Notify(context.Background(), "hello", bad)
	_, ok = errors.AsType[*stream.EncodeError](err)
	assert.True(t, ok, "Notify: %T: %v", err, err)

	_, err = r.rc.Subscribe(context.Background(), "news", bad)
	_, ok = errors.AsType[*stream.EncodeError](err)
	assert.True(t, ok, "Subscribe: %T: %v", err, err)

	// Nothing of them was written: the next message the server reads is
	// the next request.
	r.rc.Go(context.Background(), "sum", []int{1})
	assert.Equal(t, "sum", s.mustRecv().Method)
}

// TestResultDecodeError: a result that does not decode into Call's R
// fails Call with an *rpc.DecodeError (ErrDecode), naming the method and
// the Go type, the result in Data and the codec's error inside. (It was a
// bare wrapped error matching no rpc sentinel.)
func TestResultDecodeError(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := rpc.Call[int](context.Background(), r.rc, "sum", []int{1, 2})
		done <- result{n, err}
	}()
	m := s.mustRecv()
	s.reply(m.ID, "three")
	res := <-done
	require.ErrorIs(t, res.err, rpc.ErrDecode)
	de, ok := errors.AsType[*rpc.DecodeError](res.err)
	require.True(t, ok, "%T: %v", res.err, res.err)
	assert.Equal(t, "sum", de.Method)
	assert.Empty(t, de.Topic)
	assert.Equal(t, "int", de.Target)
	assert.JSONEq(t, `"three"`, string(de.Data))
	_, ok = errors.AsType[*json.UnmarshalTypeError](res.err)
	assert.True(t, ok, "the codec's error is inside")
	assert.Zero(t, res.n)
}
