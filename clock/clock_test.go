package clock_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRealClock(t *testing.T) {
	c := clock.Real()
	before := time.Now()
	assert.False(t, c.Now().Before(before))
	assert.GreaterOrEqual(t, c.Since(before), time.Duration(0))

	tm := c.NewTimer(time.Hour)
	assert.True(t, tm.Stop())
	assert.NotNil(t, tm.C())

	fired := make(chan struct{})
	c.AfterFunc(0, func() { close(fired) })
	<-fired
}

func TestOrReal(t *testing.T) {
	assert.Equal(t, clock.Real(), clock.OrReal(nil))
	var custom clock.Clock = clock.Real()
	assert.Equal(t, custom, clock.OrReal(custom))
}
