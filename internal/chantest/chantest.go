// Package chantest holds the channel helpers that the tests of package
// stream and package rx share: take a value, drain a channel, wait for a
// close, each bounded by [Deadline] so a broken test fails instead of
// hanging. It is imported by tests only.
package chantest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Deadline bounds every wait; it is generous because a wait only times out
// when the code under test is broken.
const Deadline = 10 * time.Second

// Recv takes one value from ch or fails the test. Call it from the test
// goroutine.
func Recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		require.True(t, ok, "channel closed")
		return v
	case <-time.After(Deadline):
		require.FailNow(t, "timed out waiting for a value")
	}
	panic("unreachable")
}

// Drain reads ch until it is closed and returns what it read. Call it from
// the test goroutine.
func Drain[T any](t testing.TB, ch <-chan T) []T {
	t.Helper()
	var out []T
	timeout := time.After(Deadline)
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

// WaitClosed waits until ch is closed. Call it from the test goroutine.
func WaitClosed(t testing.TB, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(Deadline):
		require.FailNow(t, "timed out waiting for close")
	}
}

// IsClosed reports whether ch is closed, without waiting.
func IsClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Seq returns [from, to).
func Seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// Consume drains ch on a goroutine of its own and returns a channel that
// is closed when ch is: the reader of a benchmark.
func Consume[T any](ch <-chan T) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	return done
}
