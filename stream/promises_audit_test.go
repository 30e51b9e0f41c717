package stream_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/stream"
)

// TestZeroBufferBlockIsASynchronousHandOff: docs/streams.md promises that
// "WithBuffer(0) with Block is a synchronous hand-off: Publish returns once
// the reader took the value." A subscriber with no initial values must
// therefore hold nothing: each Publish waits until the reader received its
// value, with no slot in between (a channel of one would let Publish return
// while the value sat unread).
func TestZeroBufferBlockIsASynchronousHandOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int]()
		defer h.Close()
		s := h.Subscribe(context.Background(), stream.WithBuffer(0), stream.WithOverflow(stream.Block))
		ch := s.C()
		require.Zero(t, cap(ch), "a hand-off has no room")

		for i := range 3 {
			published := make(chan struct{})
			go func() {
				h.Publish(i)
				close(published)
			}()
			synctest.Wait() // the publisher is durably blocked, or has returned
			select {
			case <-published:
				require.FailNow(t, "Publish returned before the reader took the value", "value %d", i)
			default:
			}
			require.Zero(t, len(ch), "value %d: nothing waits in between", i)
			require.Equal(t, i, <-ch)
			<-published // and once the reader took it, Publish returns
		}
		require.Zero(t, s.Dropped())
	})
}
