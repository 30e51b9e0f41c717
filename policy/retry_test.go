package policy_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

func TestWithErrorFillsFromError(t *testing.T) {
	base := policy.RetryContext{Attempt: 3, Elapsed: time.Minute, Transport: "websocket", CanRefreshCredentials: true}

	rc := base.WithError(fmt.Errorf("read: %w", &transport.CloseError{Code: transport.StatusGoingAway, Remote: true}), now)
	assert.Equal(t, transport.StatusGoingAway, rc.CloseCode)
	assert.Equal(t, 0, rc.HTTPStatus)
	assert.Equal(t, 3, rc.Attempt, "the other fields are kept")
	assert.Equal(t, "websocket", rc.Transport)
	assert.True(t, rc.CanRefreshCredentials)

	rc = base.WithError(refused(429, "120"), now)
	assert.Equal(t, transport.StatusCode(0), rc.CloseCode)
	assert.Equal(t, 429, rc.HTTPStatus)
	assert.True(t, rc.HasRetryAfter)
	assert.Equal(t, 2*time.Minute, rc.RetryAfter)

	rc = base.WithError(refused(503, now.Add(-time.Minute).Format(http.TimeFormat)), now)
	assert.True(t, rc.HasRetryAfter, "a date in the past means retry at once")
	assert.Equal(t, time.Duration(0), rc.RetryAfter)

	rc = base.WithError(refused(503, "soon"), now)
	assert.False(t, rc.HasRetryAfter, "an unparsable Retry-After is ignored")

	// Stale fields from a previous error are cleared.
	rc = rc.WithError(io.EOF, now)
	assert.Equal(t, policy.RetryContext{Attempt: 3, Elapsed: time.Minute, Transport: "websocket", CanRefreshCredentials: true, Err: io.EOF}, rc)
	assert.Equal(t, base, base.WithError(nil, now))
}

func TestFuncAdapter(t *testing.T) {
	var seen policy.RetryContext
	f := policy.Func(func(rc policy.RetryContext) policy.Decision {
		seen = rc
		return policy.Decision{Delay: time.Duration(rc.Attempt) * time.Second}
	})
	assert.Equal(t, 4*time.Second, mustDelay(t, f.Next(policy.RetryContext{Attempt: 4, Transport: "polling"})))
	assert.Equal(t, "polling", seen.Transport)
}
