package policy_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

func TestDefaultHeartbeat(t *testing.T) {
	h := policy.DefaultHeartbeat()
	require.NoError(t, h.Validate())
	assert.True(t, h.Enabled())
	assert.Equal(t, policy.PingFrame, h.Mode)
	assert.Equal(t, 15*time.Second, h.Interval)
	assert.Equal(t, 10*time.Second, h.PongTimeout)
	assert.Less(t, h.PongTimeout, h.Interval, "timeout strictly below the interval")
	payload, typ := h.Probe()
	assert.Empty(t, payload)
	assert.Equal(t, transport.Ping, typ)
}

func TestDisabledHeartbeat(t *testing.T) {
	h := policy.DisabledHeartbeat()
	assert.False(t, h.Enabled())
	assert.NoError(t, h.Validate())
	h.PongTimeout = -1 // ignored when off
	assert.NoError(t, h.Validate())
}

func TestHeartbeatValidate(t *testing.T) {
	ok := policy.DefaultHeartbeat()
	fn := func() ([]byte, transport.MessageType) { return []byte("ping"), transport.Text }
	with := func(f func(*policy.Heartbeat)) policy.Heartbeat { h := ok; f(&h); return h }
	cases := []struct {
		name  string
		h     policy.Heartbeat
		field string
	}{
		{"zero value", policy.Heartbeat{}, "Heartbeat.Interval"},
		{"negative interval", with(func(h *policy.Heartbeat) { h.Interval = -time.Second }), "Heartbeat.Interval"},
		{"zero pong timeout", with(func(h *policy.Heartbeat) { h.PongTimeout = 0 }), "Heartbeat.PongTimeout"},
		{"negative pong timeout", with(func(h *policy.Heartbeat) { h.PongTimeout = -1 }), "Heartbeat.PongTimeout"},
		{"timeout equal to interval", with(func(h *policy.Heartbeat) { h.PongTimeout = h.Interval }), "Heartbeat.PongTimeout"},
		{"timeout above interval", with(func(h *policy.Heartbeat) { h.PongTimeout = 2 * h.Interval }), "Heartbeat.PongTimeout"},
		{"unknown mode", with(func(h *policy.Heartbeat) { h.Mode = 9 }), "Heartbeat.Mode"},
		{"ping payload too big", with(func(h *policy.Heartbeat) { h.Message = bytes.Repeat([]byte{1}, 126) }), "Heartbeat.Message"},
		// 118 bytes fit a ping, but not with the probe's number, without
		// which a late pong would confirm what the peer has not read.
		{"no room for the probe number", with(func(h *policy.Heartbeat) { h.Message = bytes.Repeat([]byte{1}, 118) }), "Heartbeat.Message"},
		{"ping with func", with(func(h *policy.Heartbeat) { h.MessageFunc = fn }), "Heartbeat.MessageFunc"},
		{"app without message", with(func(h *policy.Heartbeat) { h.Mode = policy.AppMessage }), "Heartbeat.Message"},
		{"app with both", with(func(h *policy.Heartbeat) {
			h.Mode, h.Message, h.MessageFunc = policy.AppMessage, []byte("x"), fn
		}), "Heartbeat.MessageFunc"},
		{"app with control type", with(func(h *policy.Heartbeat) {
			h.Mode, h.Message, h.MessageType = policy.AppMessage, []byte("x"), transport.Ping
		}), "Heartbeat.MessageType"},
		{"app text not UTF-8", with(func(h *policy.Heartbeat) {
			h.Mode, h.Message = policy.AppMessage, []byte("x\xff")
		}), "Heartbeat.Message"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.h.Validate()
			require.ErrorIs(t, err, policy.ErrInvalidConfig)
			ce, ok := errors.AsType[*policy.ConfigError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, ce.Field)
		})
	}
	assert.NoError(t, with(func(h *policy.Heartbeat) { h.Message = bytes.Repeat([]byte{1}, policy.MaxPingMessage) }).Validate())
	assert.NoError(t, with(func(h *policy.Heartbeat) {
		h.Mode, h.Message, h.MessageType = policy.AppMessage, []byte("x\xff"), transport.Binary
	}).Validate(), "binary probes are bytes")
}

func TestCheckProbe(t *testing.T) {
	assert.NoError(t, policy.CheckProbe([]byte("café"), transport.Text))
	assert.NoError(t, policy.CheckProbe([]byte("\xff"), transport.Binary))
	for _, bad := range []struct {
		p   string
		typ transport.MessageType
	}{{"\xff", transport.Text}, {"x", transport.Ping}, {"x", transport.Pong}, {"x", 0}, {"x", 7}} {
		assert.ErrorIs(t, policy.CheckProbe([]byte(bad.p), bad.typ), policy.ErrInvalidConfig, "%q %v", bad.p, bad.typ)
	}
}

func TestHeartbeatProbe(t *testing.T) {
	app := policy.Heartbeat{Interval: 30 * time.Second, PongTimeout: 5 * time.Second, Mode: policy.AppMessage, Message: []byte(`{"type":"ping"}`)}
	require.NoError(t, app.Validate())
	payload, typ := app.Probe()
	assert.Equal(t, `{"type":"ping"}`, string(payload))
	assert.Equal(t, transport.Text, typ, "Text by default")

	app.MessageType = transport.Binary
	_, typ = app.Probe()
	assert.Equal(t, transport.Binary, typ)

	n := 0
	app.Message, app.MessageType = nil, 0
	app.MessageFunc = func() ([]byte, transport.MessageType) { n++; return []byte{byte(n)}, transport.Binary }
	require.NoError(t, app.Validate())
	p1, _ := app.Probe()
	p2, typ := app.Probe()
	assert.Equal(t, []byte{1}, p1)
	assert.Equal(t, []byte{2}, p2, "the function runs for every probe")
	assert.Equal(t, transport.Binary, typ)

	ping := policy.DefaultHeartbeat()
	ping.Message = []byte("hb")
	payload, typ = ping.Probe()
	assert.Equal(t, "hb", string(payload))
	assert.Equal(t, transport.Ping, typ)
}

func TestHeartbeatModeString(t *testing.T) {
	assert.Equal(t, "ping-frame", policy.PingFrame.String())
	assert.Equal(t, "app-message", policy.AppMessage.String())
	assert.Equal(t, "off", policy.HeartbeatOff.String())
	assert.Equal(t, "HeartbeatMode(9)", policy.HeartbeatMode(9).String())
}
