package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that every benchmark closed what it opened: no client,
// server or library goroutine outlives the run.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
