package stream_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// deadline bounds every wait in these tests; it is generous because a wait
// only times out when the code under test is broken.
const deadline = 10 * time.Second

// recv takes one value from ch or fails the test.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		require.True(t, ok, "channel closed")
		return v
	case <-time.After(deadline):
		require.FailNow(t, "timed out waiting for a value")
	}
	panic("unreachable")
}

// drain reads ch until it is closed and returns what it read.
func drain[T any](t *testing.T, ch <-chan T) []T {
	t.Helper()
	var out []T
	timeout := time.After(deadline)
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, v)
		case <-timeout:
			require.FailNow(t, "timed out waiting for the channel to close", "read so far: %v", out)
		}
	}
}

// waitClosed waits until ch is closed.
func waitClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(deadline):
		require.FailNow(t, "timed out waiting for close")
	}
}

// seq returns [from, to).
func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// waitFor yields until cond holds. It is for states that have no event to
// wait on (a subscriber joining a hub from another goroutine); it never
// sleeps.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			require.FailNow(t, "timed out waiting for a condition")
		}
		runtime.Gosched()
	}
}
