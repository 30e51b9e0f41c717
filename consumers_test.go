package tether_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// syncWith sends a ping and waits for its pong: the client answers a ping
// only when its reader reaches it, so once the pong is back the client has
// read everything sent before the ping.
func syncWith(t *testing.T, ctx context.Context, sc interface {
	Ping([]byte) error
	Recv(context.Context) (transport.Message, error)
}, tag string) {
	t.Helper()
	require.NoError(t, sc.Ping([]byte(tag)))
	for {
		m, err := sc.Recv(ctx)
		require.NoError(t, err, "the client never answered the ping")
		if m.Type == transport.Pong && string(m.Payload) == tag {
			return
		}
	}
}

// OnRaw gets every data message, in order, with its frame type, one call at
// a time, across a reconnect; and it is a consumer: messages it saw are not
// held for a later subscriber.
func TestOnRawSeesEveryMessageInOrder(t *testing.T) {
	const n = 2000
	type seen struct {
		typ transport.MessageType
		p   string
	}
	var (
		mu      sync.Mutex
		got     []seen
		running atomic.Int32
		overlap atomic.Bool
		all     = newCounter()
	)
	srv, _ := newServer(t)
	c := newClient[string](t, srv.URL, tether.WithoutHeartbeat(), reconnectAtOnce(),
		tether.OnRaw(func(m transport.Message) {
			if running.Add(1) > 1 {
				overlap.Store(true)
			}
			mu.Lock()
			got = append(got, seen{m.Type, string(m.Payload)}) // a copy: the payload is borrowed
			mu.Unlock()
			running.Add(-1)
			all.add(1)
		}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	send := func(from, to int) {
		sc := acceptWS(t, srv)
		for i := from; i < to; i++ {
			typ := transport.Text
			if i%2 == 1 {
				typ = transport.Binary
			}
			require.NoError(t, sc.Send(typ, []byte(numbered(i))))
		}
		require.NoError(t, all.waitAtLeast(ctx, to))
		sc.Drop() // the client reconnects at once
	}
	trs := c.Transitions(ctx)
	send(0, n/2)
	send(n/2, n)
	// OnRaw has seen the last message, but the reader may not be done with
	// it yet: a subscriber that joins before it is would get it, as any
	// subscriber of a message still being delivered. The reader is done
	// once it has reported the drop of its connection.
	for drops := 0; drops < 2; {
		tr := recv(t, trs.C())
		if tr.From == fsm.Open {
			drops++
		}
	}
	trs.Close()

	late := c.Messages(ctx)
	mu.Lock()
	require.Len(t, got, n)
	for i, s := range got {
		want := transport.Text
		if i%2 == 1 {
			want = transport.Binary
		}
		require.Equal(t, seen{want, numbered(i)}, s)
	}
	mu.Unlock()
	assert.False(t, overlap.Load(), "OnRaw ran on two goroutines at once")
	select {
	case m := <-late.C():
		assert.Failf(t, "a late subscriber got a message OnRaw had consumed", "%q", m)
	default:
	}
}

// With WithHold(n), the reader holds n messages for a first subscriber
// that has not come yet, then waits (reporting ErrNoConsumer once); the
// subscriber then gets every message, in order.
func TestHoldIsBoundedAndLossless(t *testing.T) {
	const hold, n = 8, 500
	var noConsumer atomic.Int32
	reported := make(chan struct{})
	srv, _ := newServer(t)
	c := newClient[string](t, srv.URL, tether.WithoutHeartbeat(), tether.WithHold(hold),
		tether.OnError(func(err error) {
			if errors.Is(err, tether.ErrNoConsumer) && noConsumer.Add(1) == 1 {
				close(reported)
			}
		}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc := acceptWS(t, srv)
	for i := range n {
		require.NoError(t, sc.Send(transport.Text, []byte(numbered(i))))
	}
	select {
	case <-reported:
	case <-ctx.Done():
		require.FailNow(t, "ErrNoConsumer was not reported")
	}
	require.NoError(t, c.Err(), "Err is about the connection")
	require.Equal(t, fsm.Open, c.State(), "a held reader is not a failure")
	// The bound is in messages, not in what one read brought: the reader
	// stopped after the hold'th, however many more were buffered.
	assert.EqualValues(t, hold, c.Stats().MessagesIn, "messages read while holding")
	latest, ok := c.Latest()
	require.True(t, ok)
	assert.Equal(t, numbered(hold-1), latest)

	msgs := c.Messages(ctx)
	var got []int
	for v := range msgs.All() {
		i, err := strconv.Atoi(strings.TrimPrefix(v, "m-"))
		require.NoError(t, err, v)
		got = append(got, i)
		if len(got) == n {
			break
		}
	}
	assertSequence(t, got, n, "the first subscriber")
	assert.EqualValues(t, 1, noConsumer.Load(), "ErrNoConsumer is reported once")
}

// WithHold(0) keeps nothing for a first subscriber: it starts with what is
// read after it subscribed.
func TestHoldZeroKeepsNothing(t *testing.T) {
	srv, _ := newServer(t)
	c := newClient[string](t, srv.URL, tether.WithoutHeartbeat(), tether.WithHold(0))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc := acceptWS(t, srv)
	for i := range 50 {
		require.NoError(t, sc.Send(transport.Text, []byte(numbered(i))))
	}
	syncWith(t, ctx, sc, "read")
	msgs := c.Messages(ctx)
	require.NoError(t, sc.Send(transport.Text, []byte("after")))
	assert.Equal(t, "after", recv(t, msgs.C()))
}

// A negative hold is refused by New with an *OptionError.
func TestHoldNegativeIsRefused(t *testing.T) {
	_, err := tether.New[string]("ws://127.0.0.1:1/", tether.WithHold(-1), tether.WithAutoConnect(false))
	var oe *tether.OptionError
	require.ErrorAs(t, err, &oe)
}

// greeting is a named string type: it goes through the codec.
type greeting string

// receiveOne connects a Client[T] on a fresh memory server, has the server
// send payload as a text message, and returns what OnMessage got.
func receiveOne[T any](t *testing.T, payload string) T {
	t.Helper()
	e := newEnv(t)
	got := make(chan T, 1)
	c := client[T](e, tether.OnMessage(func(v T) { got <- v }))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	require.NoError(t, e.accept().Send(ctx, transport.Text, []byte(payload)))
	return recv(t, got)
}

// TestWhichMessagesGoThroughTheCodec: a Client[string], Client[[]byte] or
// Client[transport.Message] gets each payload as it came; any other T,
// a named string type and json.RawMessage included, is decoded by the
// codec (docs/typed-messages.md).
func TestWhichMessagesGoThroughTheCodec(t *testing.T) {
	const payload = `"hi"`
	assert.Equal(t, payload, receiveOne[string](t, payload))
	assert.Equal(t, []byte(payload), receiveOne[[]byte](t, payload))
	assert.Equal(t, []byte(payload), receiveOne[transport.Message](t, payload).Payload)
	assert.Equal(t, greeting("hi"), receiveOne[greeting](t, payload), "a named string type is decoded")
	assert.Equal(t, json.RawMessage(payload), receiveOne[json.RawMessage](t, payload))
}
