package memory_test

import (
	"testing"

	"github.com/tether-go/tether/transport/transporttest"
)

// TestConformance checks the memory transport against the transport
// contract.
func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) transporttest.Harness {
		return transporttest.MemoryHarness(t, nil)
	})
}
