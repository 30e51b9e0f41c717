package fallback_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/fallback"
	"github.com/tether-go/tether/transport/memory"
)

func TestName(t *testing.T) {
	r := newRig(t)
	assert.Equal(t, "fallback", r.tr.Name())
	assert.Equal(t, "websocket", r.tr.Active())
}

func TestPrimaryConnIsLabelled(t *testing.T) {
	r := newRig(t)
	c := r.mustDial(t)
	assert.Equal(t, "websocket", transportName(c))
	assert.Len(t, r.secondary.Dials(), 0)
	assert.Zero(t, r.fc.Waiters(), "no probes while on the primary")
	sc, err := r.primary.Accept(testCtx(t))
	require.NoError(t, err)
	require.NoError(t, sc.Send(testCtx(t), transport.Text, []byte("through the wrapper")))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "through the wrapper", string(m.Payload))
}

func TestSwitchAfterNFailures(t *testing.T) {
	r := newRig(t)
	r.primary.SetDefault(memory.Unreachable())

	for i := range 2 {
		c, err := r.dial(t)
		require.Nil(t, c)
		require.ErrorIs(t, err, syscall.ECONNREFUSED, "failure %d is returned as it is", i+1)
		assert.Equal(t, "websocket", r.tr.Active())
		assert.Empty(t, r.switchLog())
	}
	c := r.mustDial(t)
	assert.Equal(t, "polling", transportName(c), "the third failure switches, in the same Dial")
	assert.Equal(t, "polling", r.tr.Active())
	assert.Len(t, r.primary.Dials(), 3)
	assert.Len(t, r.secondary.Dials(), 1)
	log := r.switchLog()
	require.Len(t, log, 1)
	assert.Equal(t, "websocket", log[0].from)
	assert.Equal(t, "polling", log[0].to)
	assert.ErrorIs(t, log[0].reason, syscall.ECONNREFUSED)

	// The next Dial stays on the secondary until a probe is due.
	c2 := r.mustDial(t)
	assert.Equal(t, "polling", transportName(c2))
	assert.Len(t, r.primary.Dials(), 3)
}

func TestSwitchAfterOption(t *testing.T) {
	r := newRig(t, fallback.WithSwitchAfter(1))
	r.primary.SetDefault(memory.Unreachable())
	assert.Equal(t, "polling", transportName(r.mustDial(t)))
}

func TestPrimarySuccessResetsTheCount(t *testing.T) {
	r := newRig(t)
	r.primary.Script(memory.Unreachable(), memory.Unreachable(), memory.Proceed(), memory.Unreachable(), memory.Unreachable())
	for _, want := range []bool{false, false, true, false, false} {
		c, err := r.dial(t)
		assert.Equal(t, want, err == nil)
		if c != nil {
			assert.Equal(t, "websocket", transportName(c))
		}
	}
	assert.Equal(t, "websocket", r.tr.Active())
	assert.Empty(t, r.secondary.Dials())
}

func TestProxyRefusalSwitchesAtOnce(t *testing.T) {
	for _, status := range []int{0, 200, 400, 403, 404, 405, 426, 501} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			r := newRig(t)
			r.primary.Script(memory.Refuse(status, nil, "WebSocket blocked by policy"))
			c := r.mustDial(t)
			assert.Equal(t, "polling", transportName(c))
			log := r.switchLog()
			require.Len(t, log, 1)
			assert.Equal(t, status, transport.StatusFromError(log[0].reason))
		})
	}
}

func TestOtherRefusalsCount(t *testing.T) {
	for _, status := range []int{401, 429, 500, 502, 503} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			r := newRig(t)
			r.primary.Script(memory.Refuse(status, http.Header{"Retry-After": {"1"}}, ""))
			_, err := r.dial(t)
			assert.Equal(t, status, transport.StatusFromError(err), "returned for the policy to judge")
			assert.Equal(t, "websocket", r.tr.Active())
		})
	}
}

func TestCustomProxyRefusal(t *testing.T) {
	r := newRig(t, fallback.WithProxyRefusal(func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }))
	r.primary.Script(memory.Refuse(http.StatusForbidden, nil, ""), memory.Unreachable())
	_, err := r.dial(t)
	require.Equal(t, http.StatusForbidden, transport.StatusFromError(err), "403 no longer switches")
	assert.Equal(t, "polling", transportName(r.mustDial(t)))
}

func TestSecondaryFailureIsReturned(t *testing.T) {
	r := newRig(t)
	r.primary.SetDefault(memory.Refuse(http.StatusUpgradeRequired, nil, ""))
	r.secondary.Script(memory.Refuse(http.StatusServiceUnavailable, http.Header{"Retry-After": {"4"}}, ""))
	_, err := r.dial(t)
	assert.Equal(t, http.StatusServiceUnavailable, transport.StatusFromError(err))
	assert.Equal(t, "polling", r.tr.Active())
	assert.Equal(t, "polling", transportName(r.mustDial(t)))
	assert.Len(t, r.primary.Dials(), 1, "no probe is due yet")
}

func TestAbandonedDialDoesNotCount(t *testing.T) {
	r := newRig(t, fallback.WithSwitchAfter(1))
	r.primary.SetDefault(memory.Hang())
	for range 3 {
		ctx, cancel := context.WithCancel(testCtx(t))
		errc := make(chan error, 1)
		go func() {
			_, err := r.tr.Dial(ctx, transport.Target{URL: "ws://x"})
			errc <- err
		}()
		_, err := r.primary.Accept(testCtx(t)) // the dial hangs at the server
		require.NoError(t, err)
		cancel()
		require.ErrorIs(t, recv(t, errc), context.Canceled)
	}
	assert.Equal(t, "websocket", r.tr.Active())
	assert.Empty(t, r.secondary.Dials())

	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	_, err := r.tr.Dial(ctx, transport.Target{URL: "ws://x"})
	require.ErrorIs(t, err, context.Canceled)
}

func TestDefaultProxyRefusal(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&transport.HandshakeError{StatusCode: 403}, true},
		{&transport.HandshakeError{StatusCode: 426}, true},
		{&transport.HandshakeError{StatusCode: 404}, true},
		{&transport.HandshakeError{StatusCode: 204}, true},
		{&transport.HandshakeError{Err: errors.New("bad upgrade header")}, true},
		{&transport.HandshakeError{StatusCode: 401}, false},
		{&transport.HandshakeError{StatusCode: 407}, false},
		{&transport.HandshakeError{StatusCode: 503}, false},
		{errors.New("connection refused"), false},
		{&transport.TimeoutError{Phase: "dial"}, false},
		{nil, false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, fallback.DefaultProxyRefusal(tc.err), "%v", tc.err)
	}
}
