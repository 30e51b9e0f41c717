package faults

import (
	"testing"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Toxiproxy logs through zerolog; the tests assert on events instead.
	zerolog.SetGlobalLevel(zerolog.Disabled)
	goleak.VerifyTestMain(m)
}
