package fallback_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/fallback"
	"github.com/tether-go/tether/transport/memory"
)

// reportingTransport is a memory transport whose Conns implement
// Backlogger and ProgressReporter, as the websocket transport's do.
type reportingTransport struct {
	*memory.Transport
	name string
}

func (r reportingTransport) Name() string { return r.name }

func (r reportingTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := r.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return &reportingConn{Conn: c}, nil
}

type reportingConn struct {
	transport.Conn
	buffered atomic.Bool
	received atomic.Uint64
}

func (c *reportingConn) Buffered() bool { return c.buffered.Load() }

func (c *reportingConn) ReadProgress() (uint64, bool) { return c.received.Load(), false }

// TestUnwrapFindsTheInnerConn: BacklogOf and ProgressOf see through both
// wrappers to the implementation of the transport underneath, and answer
// for it.
func TestUnwrapFindsTheInnerConn(t *testing.T) {
	primary, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	secondary, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	tr, err := fallback.New(
		reportingTransport{primary.Transport(), "websocket"},
		reportingTransport{secondary.Transport(), "polling"},
		fallback.WithSwitchAfter(1),
		fallback.WithClock(tethertest.NewFakeClock(time.Time{})), // no probe fires
	)
	require.NoError(t, err)
	dial := func() transport.Conn {
		c, err := tr.Dial(testCtx(t), transport.Target{URL: "wss://example.test/feed"})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close(transport.StatusNormalClosure, "") })
		return c
	}

	onPrimary := dial()
	primary.SetDefault(memory.Refuse(http.StatusForbidden, nil, "blocked"))
	onSecondary := dial()

	for _, tc := range []struct {
		transport string
		conn      transport.Conn
	}{
		{"websocket", onPrimary},
		{"polling", onSecondary},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			require.Equal(t, tc.transport, transportName(tc.conn))
			w, ok := tc.conn.(transport.Wrapper)
			require.True(t, ok, "the fallback Conn is a Wrapper")
			inner, ok := w.Unwrap().(*reportingConn)
			require.True(t, ok, "Unwrap returns the transport's own Conn")

			backlog := transport.BacklogOf(tc.conn)
			require.NotNil(t, backlog)
			assert.Same(t, inner, backlog)
			assert.False(t, backlog.Buffered())
			inner.buffered.Store(true)
			assert.True(t, backlog.Buffered())

			progress := transport.ProgressOf(tc.conn)
			require.NotNil(t, progress)
			assert.Same(t, inner, progress)
			inner.received.Store(42)
			received, waiting := progress.ReadProgress()
			assert.Equal(t, uint64(42), received)
			assert.False(t, waiting)
		})
	}
}

// TestUnwrapOverConnsWithoutThem: over transports that implement neither
// interface (memory here, polling too), the lookups find nothing, and the
// caller keeps its own account.
func TestUnwrapOverConnsWithoutThem(t *testing.T) {
	r := newRig(t)
	c := r.mustDial(t)
	assert.Nil(t, transport.BacklogOf(c))
	assert.Nil(t, transport.ProgressOf(c))
	c, _ = onSecondary(t, r)
	assert.Nil(t, transport.BacklogOf(c))
	assert.Nil(t, transport.ProgressOf(c))
}
