package policy_test

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

func TestStreakCountsFailedDials(t *testing.T) {
	var s policy.Streak
	require.False(t, s.Active())

	s = s.Failed(now) // the first connect failed
	require.True(t, s.Active())
	rc := s.Context(now, io.EOF)
	assert.Equal(t, 1, rc.Attempt)
	assert.Equal(t, time.Duration(0), rc.Elapsed)
	assert.Equal(t, time.Duration(0), rc.PrevDelay)
	assert.ErrorIs(t, rc.Err, io.EOF)

	s = s.Retrying(time.Second)
	s = s.Failed(now.Add(time.Second)) // keeps the streak
	rc = s.Context(now.Add(1500*time.Millisecond), io.EOF)
	assert.Equal(t, 2, rc.Attempt)
	assert.Equal(t, 1500*time.Millisecond, rc.Elapsed)
	assert.Equal(t, time.Second, rc.PrevDelay)
	assert.Equal(t, time.Duration(0), rc.Uptime)
}

func TestStreakMinUptime(t *testing.T) {
	const minUp = 5 * time.Second
	s := policy.Streak{}.Lost(now, 10*time.Minute, minUp).Retrying(time.Second).Retrying(2 * time.Second)
	require.Equal(t, 2, s.Attempts)

	// Open for 2 s only: not stable, the streak and its backoff go on.
	short := s.Lost(now.Add(10*time.Second), 2*time.Second, minUp)
	rc := short.Context(now.Add(10*time.Second), io.EOF)
	assert.Equal(t, 3, rc.Attempt)
	assert.Equal(t, 10*time.Second, rc.Elapsed, "elapsed counts from the first loss")
	assert.Equal(t, 2*time.Second, rc.PrevDelay)
	assert.Equal(t, 2*time.Second, rc.Uptime)

	// Open for exactly the minimum: stable, a fresh streak.
	long := s.Lost(now.Add(time.Minute), minUp, minUp)
	rc = long.Context(now.Add(time.Minute), io.EOF)
	assert.Equal(t, 1, rc.Attempt)
	assert.Equal(t, time.Duration(0), rc.Elapsed)
	assert.Equal(t, time.Duration(0), rc.PrevDelay)
	assert.Equal(t, minUp, rc.Uptime)

	// A failed dial after a short open reports no uptime for the last attempt.
	assert.Equal(t, time.Duration(0), short.Failed(now.Add(11*time.Second)).Context(now, io.EOF).Uptime)

	// MinUptime 0: every open resets, as gRPC does on READY.
	assert.Equal(t, 1, s.Lost(now, 0, 0).Context(now, io.EOF).Attempt)
}

func TestStreakDrivesPolicy(t *testing.T) {
	p := exact(t, policy.WithMaxAttempts(4))
	clock := now
	var s policy.Streak
	var got []string
	s = s.Lost(clock, time.Hour, p.MinUptime())
	for {
		d := p.Next(s.Context(clock, io.ErrUnexpectedEOF))
		if d.Stop {
			got = append(got, fmt.Sprintf("stop: exhausted=%v", errors.Is(d.Reason, policy.ErrAttemptsExhausted)))
			break
		}
		got = append(got, d.Delay.String())
		s = s.Retrying(d.Delay)
		clock = clock.Add(d.Delay)
		s = s.Failed(clock)
	}
	assert.Equal(t, []string{"1s", "1.6s", "2.56s", "4.096s", "stop: exhausted=true"}, got)

	// Reset now (network change): a zero streak and a failed immediate dial.
	s = policy.Streak{}.Failed(clock)
	assert.Equal(t, time.Second, mustDelay(t, p.Next(s.Context(clock, io.EOF))))
}

func TestStreakContextCarriesErrorDetails(t *testing.T) {
	s := policy.Streak{}.Failed(now)
	rc := s.Context(now, fmt.Errorf("dial: %w", refused(503, "9")))
	assert.Equal(t, 503, rc.HTTPStatus)
	assert.True(t, rc.HasRetryAfter)
	assert.Equal(t, 9*time.Second, rc.RetryAfter)

	rc = s.Context(now, &transport.CloseError{Code: 4001, Remote: true})
	assert.Equal(t, transport.StatusCode(4001), rc.CloseCode)
	assert.Equal(t, 0, rc.HTTPStatus)
	assert.False(t, rc.HasRetryAfter)

	// No streak running: elapsed is 0, not the age of the epoch.
	assert.Equal(t, time.Duration(0), policy.Streak{}.Context(now, nil).Elapsed)
	// A clock that went backwards does not give a negative elapsed.
	assert.Equal(t, time.Duration(0), s.Context(now.Add(-time.Hour), nil).Elapsed)
}
