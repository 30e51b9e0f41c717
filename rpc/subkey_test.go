package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/rpc"
)

// subscribeAnswered subscribes to topic in the background, answers the
// subscribe request with key, and returns what SubscribeTo returned.
func subscribeAnswered(t *testing.T, r *rig, s *server, topic, key string) (*rpc.Subscription[json.RawMessage], error) {
	t.Helper()
	type result struct {
		sub *rpc.Subscription[json.RawMessage]
		err error
	}
	done := make(chan result, 1)
	go func() {
		sub, err := r.rc.Subscribe(context.Background(), topic, nil)
		done <- result{sub, err}
	}()
	m := s.mustRecv()
	require.Equal(t, "test_subscribe", m.Method)
	s.reply(m.ID, key)
	res := <-done
	return res.sub, res.err
}

// ended reads s until its channel closes, on the test goroutine.
func ended[T any](t *testing.T, s *rpc.Subscription[T]) {
	t.Helper()
	ctx := ctxT(t)
	for {
		select {
		case _, ok := <-s.C():
			if !ok {
				return
			}
		case <-ctx.Done():
			require.FailNow(t, "the subscription did not end", "state %v", s.State())
		}
	}
}

// TestDuplicateSubscriptionKey: a server that answers a second
// subscription with the key of a live one fails the second with a
// *rpc.KeyInUseError (ErrKeyInUse), and the first keeps its
// notifications. (The second used to take the key over in silence: the
// first's notifications went to it.)
func TestDuplicateSubscriptionKey(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	a, err := subscribeAnswered(t, r, s, "a", "same")
	require.NoError(t, err)
	b, err := subscribeAnswered(t, r, s, "b", "same")
	require.ErrorIs(t, err, rpc.ErrKeyInUse)
	assert.Nil(t, b)
	kerr, ok := errors.AsType[*rpc.KeyInUseError](err)
	require.True(t, ok, "%T: %v", err, err)
	assert.Equal(t, rpc.KeyInUseError{Topic: "b", Key: "same", HeldBy: "a"}, *kerr)

	s.notify("same", 1)
	assert.JSONEq(t, "1", string(next(t, a)))
	assert.Equal(t, rpc.Subscribed, a.State())
}

// TestDuplicateSubscriptionKeyOnResubscribe: on a new connection the
// server answers two subscriptions with one key: the second answered
// fails (its reader's channel closes, Err matches ErrKeyInUse) as a
// refused one does, the stage passes, and the first keeps its
// notifications.
func TestDuplicateSubscriptionKeyOnResubscribe(t *testing.T) {
	r := newRig(t)
	r.connect()
	s := r.accept()
	a, err := subscribeAnswered(t, r, s, "a", "ka")
	require.NoError(t, err)
	b, err := subscribeAnswered(t, r, s, "b", "kb")
	require.NoError(t, err)

	s2 := r.redial(s)
	m1, m2 := s2.mustRecv(), s2.mustRecv()
	s2.reply(m1.ID, "same")
	s2.reply(m2.ID, "same")
	r.connect() // the stage passed
	first, second := a, b
	if string(m1.Params) == `["b"]` {
		first, second = b, a
	}
	ended(t, second)
	require.ErrorIs(t, second.Err(), rpc.ErrKeyInUse)
	assert.Equal(t, rpc.SubFailed, second.State())
	s2.notify("same", 2)
	assert.JSONEq(t, "2", string(next(t, first)))
}
