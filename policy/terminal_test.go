package policy_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

func TestTerminalErrorsStop(t *testing.T) {
	p := policy.Default()
	for _, err := range []error{
		fmt.Errorf("dial: %w", transport.ErrBadTarget),
		fmt.Errorf("dial: %w", transport.ErrSubprotocol),
		fmt.Errorf("dial: wrong Sec-WebSocket-Accept: %w", transport.ErrBadHandshake),
		fmt.Errorf("dial: %w: x509: certificate signed by unknown authority", transport.ErrCertificate),
	} {
		d := p.Next(policy.RetryContext{Attempt: 1, Err: err})
		require.True(t, d.Stop, "%v", err)
		assert.ErrorIs(t, d.Reason, policy.ErrTerminalError)
		assert.ErrorIs(t, d.Reason, err, "the stop carries the cause")
		var se *policy.StopError
		require.ErrorAs(t, d.Reason, &se)
		assert.Equal(t, policy.RuleError, se.Rule)
	}
	d := p.Next(policy.RetryContext{Attempt: 1, Err: errors.New("connection refused")})
	assert.False(t, d.Stop, "other errors retry")

	lenient, err := policy.New(nil, policy.WithTerminalErrors())
	require.NoError(t, err)
	d = lenient.Next(policy.RetryContext{Attempt: 1, Err: transport.ErrSubprotocol})
	assert.False(t, d.Stop, "an empty list retries everything")

	renewing, err := policy.New(nil, policy.WithTerminalErrors(transport.ErrBadTarget, transport.ErrBadHandshake))
	require.NoError(t, err)
	d = renewing.Next(policy.RetryContext{Attempt: 1, Err: fmt.Errorf("dial: %w", transport.ErrCertificate)})
	assert.False(t, d.Stop, "a user who expects a certificate to be renewed keeps retrying it")
}
