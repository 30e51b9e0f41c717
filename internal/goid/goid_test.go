package goid

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCurrentDiffersBetweenGoroutines(t *testing.T) {
	here := Current()
	assert.NotZero(t, here)
	assert.Equal(t, here, Current(), "stable on one goroutine")
	other := make(chan uint64)
	go func() { other <- Current() }()
	assert.NotEqual(t, here, <-other)
}
