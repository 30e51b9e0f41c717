package fallback_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/fallback"
	"github.com/tether-go/tether/transport/memory"
	"github.com/tether-go/tether/transport/transporttest"
)

// TestConformance checks the Conns of the fallback transport against the
// transport contract, over memory transports: the primary's Conns, and the
// secondary's (with their prober) once the primary is unreachable. The
// probe schedule runs on a fake clock that never moves, so no probe
// interferes.
func TestConformance(t *testing.T) {
	t.Run("primary", func(t *testing.T) {
		transporttest.Run(t, func(t *testing.T) transporttest.Harness {
			return transporttest.MemoryHarness(t, func(tr transport.Transport) transport.Transport {
				spare, err := memory.NewServer(memory.WithAutoAccept())
				require.NoError(t, err)
				return newConformanceFallback(t, tr, spare.Transport())
			})
		})
	})
	t.Run("secondary", func(t *testing.T) {
		transporttest.Run(t, func(t *testing.T) transporttest.Harness {
			return transporttest.MemoryHarness(t, func(tr transport.Transport) transport.Transport {
				down, err := memory.NewServer()
				require.NoError(t, err)
				down.SetDefault(memory.Unreachable())
				return newConformanceFallback(t, down.Transport(), tr, fallback.WithSwitchAfter(1))
			})
		})
	})
}

// newConformanceFallback makes a fallback transport over two memory
// transports, labelled as the WebSocket and polling ones they stand for.
func newConformanceFallback(t *testing.T, primary, secondary transport.Transport, opts ...fallback.Option) *fallback.Transport {
	t.Helper()
	all := append([]fallback.Option{fallback.WithClock(tethertest.NewFakeClock(time.Time{}))}, opts...)
	tr, err := fallback.New(
		named{primary.(*memory.Transport), "websocket"},
		named{secondary.(*memory.Transport), "polling"},
		all...)
	require.NoError(t, err)
	return tr
}
