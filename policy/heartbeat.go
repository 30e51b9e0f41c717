package policy

import (
	"fmt"
	"strconv"
	"time"

	"github.com/tether-go/tether/internal/utf8check"
	"github.com/tether-go/tether/transport"
)

// Defaults of [Heartbeat].
const (
	// DefaultHeartbeatInterval is the time between pings: SignalR's
	// keep-alive. Phoenix's 30 s notices a dead peer late; VueUse's 1 s costs
	// a frame per second per connection for nothing.
	DefaultHeartbeatInterval = 15 * time.Second
	// DefaultPongTimeout is how long after a ping the connection must show
	// a sign of life. It is strictly below the interval so only one ping is
	// ever outstanding and the deadline never coincides with the next tick
	// (Phoenix's false alarms came from a timeout equal to the interval). A
	// dead peer is noticed within Interval+PongTimeout, 25 s.
	DefaultPongTimeout = 10 * time.Second
	// MaxPingPayload is the largest ping payload (RFC 6455 section 5.5).
	MaxPingPayload = 125
	// MaxPingMessage is the largest Heartbeat.Message in PingFrame mode:
	// the heartbeat appends its probe's 8-byte number, so that only the
	// pong that echoes it confirms what was written before it.
	MaxPingMessage = MaxPingPayload - 8
)

// HeartbeatMode says how the heartbeat probes the peer.
type HeartbeatMode uint8

// Heartbeat modes.
const (
	// PingFrame sends a WebSocket ping (payload: Message, optional). The zero
	// value. Transports without control frames, such as HTTP polling, answer
	// a ping with [transport.ErrUnsupported]: configure AppMessage for them.
	PingFrame HeartbeatMode = iota
	// AppMessage sends an application message: Message (of MessageType) or
	// the result of MessageFunc.
	AppMessage
	// HeartbeatOff disables the heartbeat; see [DisabledHeartbeat].
	HeartbeatOff
)

var modeNames = [...]string{"ping-frame", "app-message", "off"}

// String returns "ping-frame", "app-message" or "off". Safe from any
// goroutine.
func (m HeartbeatMode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "HeartbeatMode(" + strconv.Itoa(int(m)) + ")"
}

// Heartbeat settings. Every Interval the adapter probes the peer; if nothing
// at all arrives within PongTimeout of the probe (any inbound frame counts as
// a sign of life), the connection is dropped as a failure, so the reconnect
// policy runs. A heartbeat timeout is never treated as a user close.
//
// A Heartbeat is a plain value; the adapter copies it. MessageFunc and
// PongMatcher are called from the adapter's goroutines (the probe timer and
// the reader, respectively) and must be safe for that: not block, not
// retain the message.
type Heartbeat struct {
	// Interval is the time between probes. Must be positive.
	Interval time.Duration
	// PongTimeout is how long after a probe a sign of life must arrive.
	// Must be positive and below Interval.
	PongTimeout time.Duration
	// Mode is the probe kind; the zero value is PingFrame.
	Mode HeartbeatMode
	// Message is the fixed probe: the start of the ping payload (at most
	// MaxPingMessage bytes) in PingFrame mode, the message in AppMessage
	// mode. Not modified by tether.
	Message []byte
	// MessageType is the type of Message in AppMessage mode: Text (the
	// zero value means Text) or Binary.
	MessageType transport.MessageType
	// MessageFunc builds each application probe (AppMessage mode only).
	// Set Message or MessageFunc, not both. A probe it builds that
	// CheckProbe refuses (a type other than Text or Binary, Text that is
	// not valid UTF-8) is not sent: the heartbeat stops on that connection
	// and reports adapters.ErrBadProbe.
	MessageFunc func() ([]byte, transport.MessageType)
	// PongMatcher, optional, recognises the peer's answer to an application
	// probe; a match gives the round-trip time. Without it the round trip is
	// measured to the first inbound frame. Liveness never depends on it:
	// any inbound frame keeps the connection alive.
	PongMatcher func(transport.Message) bool
}

// DefaultHeartbeat returns WebSocket pings every 15 s with a 10 s pong
// timeout.
func DefaultHeartbeat() Heartbeat {
	return Heartbeat{Interval: DefaultHeartbeatInterval, PongTimeout: DefaultPongTimeout, Mode: PingFrame}
}

// DisabledHeartbeat returns settings that turn the heartbeat off. Half-open
// connections then go unnoticed until a write fails or the OS gives up.
func DisabledHeartbeat() Heartbeat { return Heartbeat{Mode: HeartbeatOff} }

// Enabled reports whether the heartbeat runs. Safe from any goroutine.
func (h Heartbeat) Enabled() bool { return h.Mode != HeartbeatOff }

// Validate reports the first problem as a [*ConfigError]. Disabled settings
// are always valid. Safe from any goroutine.
func (h Heartbeat) Validate() error {
	switch {
	case !h.Enabled():
		return nil
	case h.Mode > HeartbeatOff:
		return configErr("Heartbeat.Mode", h.Mode, "unknown mode")
	case h.Interval <= 0:
		return configErr("Heartbeat.Interval", h.Interval, "must be positive (use DisabledHeartbeat to turn it off)")
	case h.PongTimeout <= 0:
		return configErr("Heartbeat.PongTimeout", h.PongTimeout, "must be positive")
	case h.PongTimeout >= h.Interval:
		return configErr("Heartbeat.PongTimeout", h.PongTimeout,
			"must be below Interval ("+h.Interval.String()+"): a timeout equal to the interval races the next probe and gives false alarms")
	case h.Message != nil && h.MessageFunc != nil:
		return configErr("Heartbeat.MessageFunc", "set", "set Message or MessageFunc, not both")
	}
	switch h.Mode {
	case PingFrame:
		if len(h.Message) > MaxPingMessage {
			return configErr("Heartbeat.Message", len(h.Message),
				"a ping payload holds at most 125 bytes, and the heartbeat appends its 8-byte probe number: at most 117")
		}
		if h.MessageFunc != nil {
			return configErr("Heartbeat.MessageFunc", "set", "only for AppMessage mode")
		}
	case AppMessage:
		if h.Message == nil && h.MessageFunc == nil {
			return configErr("Heartbeat.Message", nil, "AppMessage mode needs Message or MessageFunc")
		}
		if h.MessageType != 0 && !h.MessageType.IsData() {
			return configErr("Heartbeat.MessageType", h.MessageType, "must be Text or Binary")
		}
		if h.MessageFunc == nil && h.MessageType != transport.Binary {
			if err := checkText("Heartbeat.Message", h.Message, "a Text probe must be valid UTF-8 (RFC 6455; a strict peer closes with 1007): set MessageType Binary"); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckProbe reports why a probe of type typ and payload p cannot be sent
// as an application message, or nil: the type must be Text or Binary, and a
// Text payload valid UTF-8. The heartbeat checks every probe MessageFunc
// builds with it; Validate checks Message. Safe from any goroutine.
func CheckProbe(p []byte, typ transport.MessageType) error {
	if !typ.IsData() {
		return configErr("Heartbeat.MessageFunc", typ, "built a probe that is not Text or Binary")
	}
	if typ == transport.Text {
		return checkText("Heartbeat.MessageFunc", p, "built a Text probe that is not valid UTF-8 (RFC 6455; a strict peer closes with 1007)")
	}
	return nil
}

// checkText refuses p, the probe of field, when it is not valid UTF-8,
// naming its size and the first bad byte, never its content.
func checkText(field string, p []byte, problem string) error {
	if at := utf8check.InvalidAt(p); at >= 0 {
		return configErr(field, fmt.Sprintf("%d bytes, invalid UTF-8 at byte %d", len(p), at), problem)
	}
	return nil
}

// Probe returns the payload and type of the next probe: MessageFunc's result
// when set, Message otherwise (typed [transport.Ping] in PingFrame mode, and
// MessageType, Text by default, in AppMessage mode). Call it from the
// goroutine that sends the probe.
func (h Heartbeat) Probe() ([]byte, transport.MessageType) {
	if h.MessageFunc != nil {
		return h.MessageFunc()
	}
	if h.Mode == PingFrame {
		return h.Message, transport.Ping
	}
	if h.MessageType == 0 {
		return h.Message, transport.Text
	}
	return h.Message, h.MessageType
}
