package fallback_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/fallback"
	"github.com/tether-go/tether/transport/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// generous bounds a wait that must succeed; it never elapses in a passing run.
const generous = 10 * time.Second

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), generous)
	t.Cleanup(cancel)
	return ctx
}

// named gives a memory transport the name of the transport it stands in for.
type named struct {
	*memory.Transport
	name string
}

func (n named) Name() string { return n.name }

type switchEvent struct {
	from, to string
	reason   error
}

// rig is a fallback transport over two memory servers standing in for
// WebSocket (primary) and polling (secondary), on a fake clock.
type rig struct {
	primary, secondary *memory.Server
	fc                 *tethertest.FakeClock
	tr                 *fallback.Transport

	mu       sync.Mutex
	switches []switchEvent
}

func newRig(t *testing.T, opts ...fallback.Option) *rig {
	t.Helper()
	r := &rig{fc: tethertest.NewFakeClock(time.Time{})}
	var err error
	r.primary, err = memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	r.secondary, err = memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	all := append([]fallback.Option{
		fallback.WithClock(r.fc),
		fallback.WithOnSwitch(func(from, to string, reason error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.switches = append(r.switches, switchEvent{from, to, reason})
		}),
	}, opts...)
	r.tr, err = fallback.New(
		named{r.primary.Transport(), "websocket"},
		named{r.secondary.Transport(), "polling"},
		all...)
	require.NoError(t, err)
	return r
}

func (r *rig) switchLog() []switchEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]switchEvent(nil), r.switches...)
}

// dial dials and closes the Conn when the test ends.
func (r *rig) dial(t *testing.T) (transport.Conn, error) {
	t.Helper()
	c, err := r.tr.Dial(testCtx(t), transport.Target{URL: "wss://example.test/feed"})
	if c != nil {
		t.Cleanup(func() { _ = c.Close(transport.StatusNormalClosure, "") })
	}
	return c, err
}

func (r *rig) mustDial(t *testing.T) transport.Conn {
	t.Helper()
	c, err := r.dial(t)
	require.NoError(t, err)
	return c
}

// transportName asks a Conn for its transport, as the Connector does.
func transportName(c transport.Conn) string {
	if n, ok := c.(interface{ TransportName() string }); ok {
		return n.TransportName()
	}
	return ""
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(generous):
		require.FailNow(t, "timed out waiting")
		var zero T
		return zero
	}
}

// readErr reads until the Conn ends and returns its error.
func readErr(t *testing.T, c transport.Conn) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() {
		for {
			if _, err := c.Read(); err != nil {
				ch <- err
				return
			}
		}
	}()
	return recv(t, ch)
}

// waitTimer waits until a probe timer is armed and returns it.
func waitTimer(t *testing.T, fc *tethertest.FakeClock) time.Duration {
	t.Helper()
	require.NoError(t, fc.BlockUntil(testCtx(t), 1))
	p := fc.Pending()
	require.Len(t, p, 1)
	return p[0]
}

func requireUpgradeClose(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, fallback.ErrUpgrade)
	ce, ok := errors.AsType[*transport.CloseError](err)
	require.True(t, ok, "got %v", err)
	require.Equal(t, transport.StatusServiceRestart, ce.Code)
}
