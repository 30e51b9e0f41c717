package tether_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
)

// TestUnconfirmableConnectionNeverHoldsSendForEver: over a connection that
// can confirm nothing (no ping, no Confirmer), Send waited for a
// confirmation when the record of unconfirmed writes was full: for ever,
// with nothing reported (outside review: Send 32,768 blocked until its
// ctx ended, state Open, no error anywhere). Now the record's oldest
// quarter is reported possibly lost, with ErrUnconfirmable, each time it
// fills, and Send goes on; the answered close confirms the rest.
func TestUnconfirmableConnectionNeverHoldsSendForEver(t *testing.T) {
	e := newEnv(t)
	log := newDropLog()
	c := client[[]byte](e, tether.WithTransport(pinglessTransport{e.srv.Transport()}),
		tether.OnDrop(log.onDrop), tether.OnError(log.onError))
	sc := e.accept()
	waitState(t, c, fsm.Open)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	go func() { // the server reads everything
		for {
			if _, err := sc.Recv(ctx); err != nil {
				return
			}
		}
	}()

	const n = adapters.DefaultMaxUnconfirmed + 10_000
	ids := make([]uint64, n)
	for i := range n {
		var err error
		ids[i], err = c.SendID(ctx, []byte(numbered(i)))
		require.NoError(t, err, "message %d", i)
	}
	require.NoError(t, c.Close(ctx))
	waitDone(t, c)

	log.mu.Lock()
	defer log.mu.Unlock()
	quarter := adapters.DefaultMaxUnconfirmed / 4
	require.Len(t, log.ordered, 2*quarter, "two quarters evicted: at the first write past the bound, and a quarter later")
	for i, id := range log.ordered {
		require.Equal(t, ids[i], id, "the oldest first")
		reasons := log.drops[id]
		require.Len(t, reasons, 1)
		assert.ErrorIs(t, reasons[0], tether.ErrPossiblyLost)
		assert.ErrorIs(t, reasons[0], adapters.ErrUnconfirmable)
	}
	require.Len(t, log.lost, 2, "one report each time")
	for _, l := range log.lost {
		assert.Len(t, l.IDs, quarter)
		assert.True(t, errors.Is(l, adapters.ErrUnconfirmable), "%v", l)
	}
}
