package rx_test

import (
	"context"
	"testing"

	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/internal/chantest"
	"github.com/tether-go/tether/rx"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// connected returns a Client connected to a memory server and the server's
// side of the connection. The Client is closed when the test ends.
func connected(t *testing.T) (*tether.Client[Price], *memory.ServerConn) {
	t.Helper()
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	c, err := tether.New[Price]("memory://prices",
		tether.WithTransport(srv.Transport()), tether.WithAutoConnect(false))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Close(context.Background())
		<-c.Done()
	})
	ctx, cancel := context.WithTimeout(context.Background(), chantest.Deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	return c, sc
}

// The first subscriber ever receives the messages that arrived before it,
// also as an Observable.
func TestMessagesGetsHeldMessages(t *testing.T) {
	c, sc := connected(t)
	ctx, cancel := context.WithTimeout(context.Background(), chantest.Deadline)
	defer cancel()
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"symbol":"A","price":1}`)))
	// Whether the reader holds it or has not read it yet when rx.Messages
	// subscribes, the first subscriber gets it.
	obs := rx.Messages(ctx, c)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"symbol":"B","price":2}`)))
	out := obs.Observe()
	require.Equal(t, Price{"A", 1}, chantest.Recv(t, out).V)
	require.Equal(t, Price{"B", 2}, chantest.Recv(t, out).V)
}

func TestErrorsEmitsDecodeErrors(t *testing.T) {
	c, sc := connected(t)
	ctx, cancel := context.WithTimeout(context.Background(), chantest.Deadline)
	defer cancel()
	errs := rx.Errors(ctx, c).Observe()
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`not json`)))
	it := chantest.Recv(t, errs)
	require.False(t, it.Error(), "an error on the stream is a value, not the end")
	err, ok := it.V.(error)
	require.True(t, ok)
	var de *stream.DecodeError
	require.ErrorAs(t, err, &de)
}

func TestTransitionsStartsWithTheLatest(t *testing.T) {
	c, _ := connected(t)
	ctx, cancel := context.WithCancel(context.Background())
	obs := rx.Transitions(ctx, c).Map(func(_ context.Context, v any) (any, error) {
		return v.(fsm.Transition).To, nil
	})
	out := obs.Observe()
	require.Equal(t, fsm.Open, chantest.Recv(t, out).V)
	require.NoError(t, c.Close(context.Background()))
	require.Equal(t, fsm.Closing, chantest.Recv(t, out).V)
	require.Equal(t, fsm.Closed, chantest.Recv(t, out).V)
	var rest []rxgo.Item
	rest = append(rest, chantest.Drain(t, out)...) // the Client's end completes it
	require.Empty(t, rest)
	cancel()
}

func TestClientObservableRefusesBadOptions(t *testing.T) {
	c, _ := connected(t)
	_, errs := items(t, rx.Messages(context.Background(), c, stream.WithBuffer(-1)).Observe())
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], stream.ErrInvalidConfig)
}
