package policy_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

func asStop(err error) (*policy.StopError, bool) {
	return errors.AsType[*policy.StopError](err)
}

func TestStopErrorUnwrapsKindCategoryAndCause(t *testing.T) {
	cause := &transport.HandshakeError{StatusCode: 401}
	err := error(&policy.StopError{Rule: policy.RuleHTTPStatus, Kind: policy.ErrUnauthorized, Attempt: 2, HTTPStatus: 401, Err: cause})
	wrapped := fmt.Errorf("give up: %w", err)

	assert.ErrorIs(t, wrapped, policy.ErrUnauthorized)
	assert.ErrorIs(t, wrapped, policy.ErrTerminalHTTPStatus, "the rule's category matches too")
	assert.NotErrorIs(t, wrapped, policy.ErrTerminalCloseCode)
	he, ok := errors.AsType[*transport.HandshakeError](wrapped)
	require.True(t, ok, "the last connection error is reachable")
	assert.Equal(t, 401, he.StatusCode)
	se, ok := errors.AsType[*policy.StopError](wrapped)
	require.True(t, ok)
	assert.Equal(t, 2, se.Attempt)
	assert.NotEmpty(t, err.Error())
}

func TestStopErrorCloseCategory(t *testing.T) {
	err := &policy.StopError{Rule: policy.RuleCloseCode, Kind: policy.ErrTerminalCloseCode, Err: io.EOF}
	assert.ErrorIs(t, err, policy.ErrTerminalCloseCode)
	assert.ErrorIs(t, err, io.EOF)
	assert.NotErrorIs(t, err, policy.ErrTerminalHTTPStatus)
	// The category is not listed twice.
	assert.Len(t, err.Unwrap(), 2)
}

func TestStopErrorWithoutCause(t *testing.T) {
	err := &policy.StopError{Rule: policy.RuleMaxAttempts, Kind: policy.ErrAttemptsExhausted}
	assert.ErrorIs(t, err, policy.ErrAttemptsExhausted)
	assert.Len(t, err.Unwrap(), 1)
	assert.NotEmpty(t, err.Error())
}

func TestConfigErrorMatchesSentinel(t *testing.T) {
	err := fmt.Errorf("setup: %w", &policy.ConfigError{Field: "X", Value: 1, Problem: "bad"})
	assert.ErrorIs(t, err, policy.ErrInvalidConfig)
	ce, ok := errors.AsType[*policy.ConfigError](err)
	require.True(t, ok)
	assert.Equal(t, "X", ce.Field)
	assert.NotEmpty(t, ce.Error())
}
