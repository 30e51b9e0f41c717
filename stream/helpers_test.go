package stream_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/internal/chantest"
)

// deadline bounds every wait in these tests.
const deadline = chantest.Deadline

// recv takes one value from ch or fails the test.
func recv[T any](t *testing.T, ch <-chan T) T { t.Helper(); return chantest.Recv(t, ch) }

// drain reads ch until it is closed and returns what it read.
func drain[T any](t *testing.T, ch <-chan T) []T { t.Helper(); return chantest.Drain(t, ch) }

// waitClosed waits until ch is closed.
func waitClosed(t *testing.T, ch <-chan struct{}) { t.Helper(); chantest.WaitClosed(t, ch) }

// seq returns [from, to).
func seq(from, to int) []int { return chantest.Seq(from, to) }

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
