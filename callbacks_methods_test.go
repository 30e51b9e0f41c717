package tether_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

// Callbacks run "never under a lock: they may call any method of the
// client" (OnOpen's doc). Every callback here calls the client's methods
// that answer at once, sends, and subscribes, through a connection, a
// flood, heartbeats, a drop and reconnect, a Disconnect with messages
// queued and a Close: a lock held around any of them would deadlock and
// the test would run into its deadline.
func TestEveryCallbackMayCallTheClient(t *testing.T) {
	srv, _ := newServer(t)
	var (
		mu  sync.Mutex
		ran = map[string]int{}
		c   *tether.Client[string]
	)
	rtt := make(chan struct{}, 1)
	touch := func(name string) {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		c.Buffered()
		_ = c.Err()
		c.IsConnected()
		c.Latest()
		c.RTT()
		_ = c.State()
		_ = c.Stats()
		_ = c.Status()
		_ = c.Subprotocol()
		_ = c.Trace()
		_ = c.TraceMermaid()
		_, err := c.Diagram(fsm.Mermaid)
		assert.NoError(t, err, name)
		c.Messages(ctx).Close()
		c.Errors(ctx).Close()
		c.Transitions(ctx).Close()
		if err := c.SendText(ctx, name); err != nil {
			assert.ErrorIs(t, err, tether.ErrClosed, "%s: SendText", name)
		}
		mu.Lock()
		ran[name]++
		mu.Unlock()
	}
	onTr := func(name string) func(fsm.Transition) { return func(fsm.Transition) { touch(name) } }
	c = newClient[string](t, srv.URL, tether.WithAutoConnect(false), reconnectAtOnce(),
		tether.WithHeartbeat(policy.Heartbeat{Interval: 50 * time.Millisecond, PongTimeout: 40 * time.Millisecond}),
		tether.OnOpen(onTr("OnOpen")), tether.OnClose(onTr("OnClose")), tether.OnDone(onTr("OnDone")),
		tether.OnTransition(onTr("OnTransition")),
		tether.OnError(func(error) { touch("OnError") }),
		tether.OnDrop(func(tether.Drop) { touch("OnDrop") }),
		tether.OnRetry(func(tether.Retry) { touch("OnRetry") }),
		tether.OnRTT(func(time.Duration) {
			touch("OnRTT")
			select {
			case rtt <- struct{}{}:
			default:
			}
		}),
		tether.OnMessage(func(string) { touch("OnMessage") }),
		tether.OnRaw(func(transport.Message) { touch("OnRaw") }))

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	sc := acceptWS(t, srv)
	for i := range 200 {
		require.NoError(t, sc.Send(transport.Text, []byte(numbered(i))))
	}
	select {
	case <-rtt:
	case <-ctx.Done():
		require.FailNow(t, "no round trip")
	}
	sc.Drop() // a drop, a retry at once, a new connection
	acceptWS(t, srv)
	waitState(t, c, fsm.Open)
	require.NoError(t, c.Disconnect(ctx))
	for i := range 3 {
		require.NoError(t, c.SendText(ctx, numbered(i)), "queued for the next connection")
	}
	require.NoError(t, c.Close(ctx)) // what is queued is dropped, to OnDrop
	waitDone(t, c)

	mu.Lock()
	defer mu.Unlock()
	for _, name := range []string{"OnOpen", "OnClose", "OnDone", "OnTransition", "OnError", "OnDrop", "OnRetry",
		"OnRTT", "OnMessage", "OnRaw"} {
		assert.Positive(t, ran[name], "%s never ran", name)
	}
}
