package tether_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// TestCallbackOptionsAdd: a callback option given twice (by a program and
// by a layer over it, say) runs both functions, in the order given; the
// later one used to replace the earlier silently.
func TestCallbackOptionsAdd(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var got []string
	note := func(s string) { mu.Lock(); got = append(got, s); mu.Unlock() }
	seen := make(chan struct{})
	c := client[string](e,
		tether.OnOpen(func(fsm.Transition) { note("open 1") }),
		tether.OnOpen(func(fsm.Transition) { note("open 2") }),
		tether.OnRaw(func(m transport.Message) { note("raw 1 " + string(m.Payload)) }),
		tether.OnRaw(func(m transport.Message) { note("raw 2 " + string(m.Payload)) }),
		tether.OnMessage(func(m string) { note("message 1 " + m) }),
		tether.OnMessage(func(m string) { note("message 2 " + m); close(seen) }),
		tether.OnDone(func(fsm.Transition) { note("done 1") }),
		tether.OnDone(func(fsm.Transition) { note("done 2") }))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc := e.accept()
	require.NoError(t, c.Connect(ctx))
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("hi")))
	select {
	case <-seen:
	case <-ctx.Done():
		t.Fatal("the message did not reach the second OnMessage")
	}
	require.NoError(t, c.Close(ctx))
	<-c.Done()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"open 1", "open 2", "raw 1 hi", "raw 2 hi", "message 1 hi", "message 2 hi",
		"done 1", "done 2"}, got)
}
