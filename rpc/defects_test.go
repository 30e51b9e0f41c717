package rpc_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/rpc"
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
