package tethertest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/tethertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStepFiresDueTimersInOrder(t *testing.T) {
	c := tethertest.NewFakeClock(time.Time{})
	start := c.Now()
	late := c.NewTimer(3 * time.Second)
	early := c.NewTimer(time.Second)
	require.Equal(t, 2, c.Waiters())
	assert.Equal(t, []time.Duration{time.Second, 3 * time.Second}, c.Pending())

	c.Step(2 * time.Second)
	select {
	case at := <-early.C():
		assert.Equal(t, start.Add(time.Second), at, "a timer reads its own deadline")
	default:
		require.Fail(t, "the due timer did not fire")
	}
	select {
	case <-late.C():
		require.Fail(t, "a timer fired early")
	default:
	}
	assert.Equal(t, start.Add(2*time.Second), c.Now())
	assert.Equal(t, 2*time.Second, c.Since(start))
	c.Step(time.Second)
	<-late.C()
	assert.Zero(t, c.Waiters())
}

func TestStopAndResetLeaveNoStaleTick(t *testing.T) {
	c := tethertest.NewFakeClock(time.Time{})
	tm := c.NewTimer(time.Second)
	assert.True(t, tm.Stop())
	assert.False(t, tm.Stop())
	c.Step(time.Hour)
	select {
	case <-tm.C():
		require.Fail(t, "a stopped timer fired")
	default:
	}

	tm = c.NewTimer(time.Second)
	c.Step(time.Second) // fires into the buffer, unread
	assert.False(t, tm.Reset(time.Minute), "it had fired")
	select {
	case <-tm.C():
		require.Fail(t, "Reset must drop the stale tick")
	default:
	}
	assert.Equal(t, []time.Duration{time.Minute}, c.Pending())
}

func TestAfterFuncRunsOnItsOwnGoroutine(t *testing.T) {
	c := tethertest.NewFakeClock(time.Time{})
	var mu sync.Mutex
	mu.Lock() // held until Step returns: f run inside Step would wait for it
	ran := make(chan struct{})
	c.AfterFunc(time.Second, func() {
		mu.Lock()
		defer mu.Unlock()
		close(ran)
	})
	stepped := make(chan struct{})
	go func() {
		defer close(stepped)
		c.Step(time.Second)
	}()
	select {
	case <-stepped:
	case <-time.After(10 * time.Second):
		mu.Unlock()
		require.FailNow(t, "Step ran f itself and waited for it")
	}
	mu.Unlock()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		require.FailNow(t, "f never ran")
	}
}

func TestStepToNext(t *testing.T) {
	c := tethertest.NewFakeClock(time.Time{})
	_, ok := c.StepToNext()
	assert.False(t, ok)
	tm := c.NewTimer(1500 * time.Millisecond)
	d, ok := c.StepToNext()
	require.True(t, ok)
	assert.Equal(t, 1500*time.Millisecond, d)
	<-tm.C()
}

func TestBlockUntilWakesOnArm(t *testing.T) {
	c := tethertest.NewFakeClock(time.Time{})
	go func() {
		c.AfterFunc(time.Second, func() {})
		c.NewTimer(time.Second)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.BlockUntil(ctx, 2))

	short, cancelShort := context.WithCancel(context.Background())
	cancelShort()
	require.ErrorIs(t, c.BlockUntil(short, 3), context.Canceled)
	c.Step(time.Second) // fire the AfterFunc so its goroutine ends
}

// TestAfterFuncSeesTheTimeStepReached: an AfterFunc function that reads
// the clock waits until Step has returned, so it sees where Step ended,
// never a deadline on the way (docs/testing.md).
func TestAfterFuncSeesTheTimeStepReached(t *testing.T) {
	c := tethertest.NewFakeClock(time.Time{})
	const n = 500
	seen := make(chan time.Time, n)
	for i := range n {
		c.AfterFunc(time.Duration(i+1)*time.Millisecond, func() { seen <- c.Now() })
	}
	end := c.Now().Add(time.Second)
	c.Step(time.Second)
	for range n {
		select {
		case at := <-seen:
			assert.Equal(t, end, at)
		case <-time.After(10 * time.Second):
			require.FailNow(t, "an AfterFunc function did not run")
		}
	}
}

// TestSettleWaitsForTheFunctionsAStepStarted: Settle returns once every
// AfterFunc function a step started has returned: at once when none runs,
// ctx's error while one is still running, nil after it returned; a timer
// stopped before it fired is not waited for.
func TestSettleWaitsForTheFunctionsAStepStarted(t *testing.T) {
	clk := tethertest.NewFakeClock(time.Time{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, clk.Settle(ctx), "nothing runs")

	release := make(chan struct{})
	var done bool
	clk.AfterFunc(time.Second, func() { <-release; done = true })
	stopped := clk.AfterFunc(time.Second, func() { <-make(chan struct{}) }) // never returns, if it ran
	require.True(t, stopped.Stop())
	clk.Step(time.Second)

	short, cancelShort := context.WithCancel(ctx)
	cancelShort()
	require.ErrorIs(t, clk.Settle(short), context.Canceled, "the function still runs")
	close(release)
	require.NoError(t, clk.Settle(ctx))
	assert.True(t, done, "Settle returned before the function did") // ordered by Settle: no race
}
