package tether

import (
	"github.com/tether-go/tether/transport/websocket"
)

// WithCompression offers permessage-deflate (RFC 7692) on the default
// WebSocket transport, with the parameters of cfg; its zero value is the
// recommended offer (see websocket.Compression, and docs/transports.md for
// when it pays and what it costs). A server that declines leaves the
// connection uncompressed. A cfg out of range is an *OptionError of New.
// It cannot be combined with WithTransport: offer it on that transport
// instead (websocket.WithCompression).
func WithCompression(cfg websocket.Compression) Option {
	return optionFunc(func(c *config) {
		opt := websocket.WithCompression(cfg)
		if _, err := websocket.New(opt); err != nil {
			c.fail("WithCompression", err)
			return
		}
		c.wsOptions = append(c.wsOptions, opt)
	})
}
