package bench

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that every benchmark closed what it opened: no client,
// server or library goroutine outlives the run.
//
// When started with helperEnv set, the test binary is not a test run but a
// server process (see helper_test.go) that BenchmarkIdle measures clients
// against, so the server's memory and goroutines stay out of the client's
// figures.
func TestMain(m *testing.M) {
	if kind := os.Getenv(helperEnv); kind != "" {
		os.Exit(runHelper(kind))
	}
	goleak.VerifyTestMain(m,
		// centrifuge-go starts a goroutine per request that waits out the
		// request's ReadTimeout (5 s) even once answered or closed;
		// BenchmarkIdle waits for them before measuring, but they may
		// outlive a run cut short.
		goleak.IgnoreTopFunction("github.com/centrifugal/centrifuge-go.(*Client).sendAsync.func1"))
}
