package websocket

import (
	"compress/flate"
	"context"
	"fmt"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/tether-go/tether/transport"
)

// Defaults of [Compression]. The package documentation, Compression, says
// why.
const (
	// DefaultCompressionLevel is the compress/flate level of outbound
	// messages: [flate.BestSpeed], the cheapest level that finds repeats,
	// as in gorilla and coder. A message compressed alone has little for a
	// slower level to find.
	DefaultCompressionLevel = flate.BestSpeed
	// DefaultCompressionThreshold is the smallest outbound message that is
	// compressed, 128 bytes: below it deflate saves a few bytes at best
	// and costs a compressor's worth of CPU.
	DefaultCompressionThreshold = 128
)

// Compression configures permessage-deflate (RFC 7692), offered by
// [WithCompression]. Its zero value is the recommended offer: the server
// may keep its compression context between messages (small messages of a
// feed compress several times better that way, for a window of up to 32
// KiB kept per connection), and the client does not keep its own (a
// compress/flate writer with a context is about 1.2 MB per connection; see
// ClientContextTakeover).
type Compression struct {
	// Level is the compress/flate level of outbound messages: from
	// [flate.BestSpeed] (1) to [flate.BestCompression] (9),
	// [flate.DefaultCompression] (6) or [flate.HuffmanOnly]. 0 means
	// [DefaultCompressionLevel]. With ClientContextTakeover, a level
	// above BestSpeed pays: BestSpeed encodes a message under 128 bytes
	// as literals, whatever the context holds.
	Level int
	// Threshold is the size below which an outbound message is sent
	// uncompressed. 0 means [DefaultCompressionThreshold]; a negative
	// value compresses every message.
	Threshold int
	// ClientContextTakeover keeps the client's compression context from
	// one outbound message to the next, which compresses a stream of
	// similar messages better, at the cost of a compress/flate writer
	// (about 1.2 MB) held by each connection from its first compressed
	// message on. When false (the default) the offer says
	// client_no_context_takeover and each outbound message is compressed
	// on its own, by a writer borrowed from a pool for the length of the
	// call.
	ClientContextTakeover bool
	// ServerNoContextTakeover asks the server to compress each message on
	// its own (server_no_context_takeover). The client then keeps no
	// window between messages; otherwise it keeps the last 2^bits bytes
	// it inflated (see ServerMaxWindowBits), up to 32 KiB.
	ServerNoContextTakeover bool
	// ServerMaxWindowBits asks the server to use a window of at most
	// 2^bits bytes (server_max_window_bits), from 8 to 15, which bounds
	// the window the client keeps per connection. 0 leaves it to the
	// server (15 at most, a 32 KiB window).
	ServerMaxWindowBits int
}

// Negotiated is what the server accepted of a permessage-deflate offer:
// the extension's parameters in force on a connection. See [CompressionOf].
type Negotiated struct {
	// ServerNoContextTakeover: the server compresses each message on its
	// own, so the client keeps no window.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client compresses each message on its
	// own.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits is the base-2 logarithm of the server's window
	// (15 when the server did not say).
	ServerMaxWindowBits int
	// ClientMaxWindowBits is the base-2 logarithm of the window the client
	// may use (15 when the server did not limit it). Below 15, the client
	// compresses only messages no longer than the window, each on its own,
	// because compress/flate always uses a 32 KiB window.
	ClientMaxWindowBits int
}

// Compressor is implemented by the connections of this package. Use
// [CompressionOf] and [WriteUncompressed] rather than asserting it: they
// find it through wrappers ([transport.Wrapper]).
type Compressor interface {
	// Compression reports the permessage-deflate parameters negotiated on
	// the connection; ok is false when the extension is not in use.
	Compression() (n Negotiated, ok bool)
	// WriteUncompressed is Write, except that the message goes out
	// uncompressed even when permessage-deflate is in use: for a payload
	// that is already compressed (an image, a gzip body), which deflate
	// would only make larger.
	WriteUncompressed(ctx context.Context, typ transport.MessageType, payload []byte) error
}

// WithCompression offers permessage-deflate (RFC 7692) with the parameters
// of cfg (its zero value is the recommended offer). A server that declines
// leaves the connection uncompressed; a server that accepts with
// parameters the offer does not allow fails the dial with an error
// matching [transport.ErrBadHandshake]. See the package documentation,
// Compression. A cfg out of range gives an [*OptionError].
func WithCompression(cfg Compression) Option {
	return optionFunc(func(o *options) error {
		switch {
		case cfg.Level < flate.HuffmanOnly || cfg.Level > flate.BestCompression:
			return &OptionError{Option: "WithCompression", Reason: fmt.Sprintf(
				"Level %d: want 1 (flate.BestSpeed) to 9 (flate.BestCompression), flate.DefaultCompression, flate.HuffmanOnly, or 0 for DefaultCompressionLevel", cfg.Level)}
		case cfg.ServerMaxWindowBits != 0 && (cfg.ServerMaxWindowBits < 8 || cfg.ServerMaxWindowBits > 15):
			return &OptionError{Option: "WithCompression", Reason: fmt.Sprintf(
				"ServerMaxWindowBits %d: want 8 to 15, or 0 to leave it to the server", cfg.ServerMaxWindowBits)}
		}
		if cfg.Level == 0 {
			cfg.Level = DefaultCompressionLevel
		}
		if cfg.Threshold == 0 {
			cfg.Threshold = DefaultCompressionThreshold
		}
		o.compression = &cfg
		return nil
	})
}

// WithoutCompression turns permessage-deflate off again after an earlier
// [WithCompression] (the default: no extension is offered).
func WithoutCompression() Option {
	return optionFunc(func(o *options) error {
		o.compression = nil
		return nil
	})
}

// offer is the permessage-deflate offer of cfg. client_max_window_bits is
// always offered, without a value: a server may then limit the client's
// window (some servers decline an offer without it), and the client honours
// a limit (see Negotiated.ClientMaxWindowBits).
func (cfg *Compression) offer() wsflate.Parameters {
	p := wsflate.Parameters{
		ClientNoContextTakeover: !cfg.ClientContextTakeover,
		ServerNoContextTakeover: cfg.ServerNoContextTakeover,
		ClientMaxWindowBits:     1, // wsflate: the parameter without a value
	}
	if cfg.ServerMaxWindowBits != 0 {
		p.ServerMaxWindowBits = wsflate.WindowBits(cfg.ServerMaxWindowBits)
	}
	return p
}

// accept checks the server's answer a (the parsed parameters of the one
// permessage-deflate extension it selected) against the offer, as RFC 7692
// section 7.1 requires of a client, and returns what is in force. A
// server may add server_no_context_takeover, client_no_context_takeover
// and server_max_window_bits unasked; it may lower the
// server_max_window_bits offered, never raise it; it may send
// client_max_window_bits only with a value (the offer had it); and if the
// offer asked for server_no_context_takeover, the answer must say it.
func (cfg *Compression) accept(a wsflate.Parameters) (Negotiated, error) {
	offer := cfg.offer()
	switch {
	case offer.ServerNoContextTakeover && !a.ServerNoContextTakeover:
		return Negotiated{}, fmt.Errorf("%w: permessage-deflate accepted without the server_no_context_takeover offered",
			transport.ErrBadHandshake)
	case offer.ServerMaxWindowBits.Defined() && !a.ServerMaxWindowBits.Defined():
		return Negotiated{}, fmt.Errorf("%w: permessage-deflate accepted without the server_max_window_bits=%d offered (RFC 7692 requires a server that accepts it to echo it; gorilla/websocket does not: leave ServerMaxWindowBits unset for such a server)",
			transport.ErrBadHandshake, offer.ServerMaxWindowBits)
	case offer.ServerMaxWindowBits.Defined() && a.ServerMaxWindowBits > offer.ServerMaxWindowBits:
		return Negotiated{}, fmt.Errorf("%w: permessage-deflate accepted with server_max_window_bits=%d, larger than the %d offered",
			transport.ErrBadHandshake, a.ServerMaxWindowBits, offer.ServerMaxWindowBits)
	case a.ClientMaxWindowBits == 1:
		return Negotiated{}, fmt.Errorf("%w: permessage-deflate accepted with client_max_window_bits without a value",
			transport.ErrBadHandshake)
	}
	n := Negotiated{
		ServerNoContextTakeover: a.ServerNoContextTakeover,
		ClientNoContextTakeover: a.ClientNoContextTakeover || !cfg.ClientContextTakeover,
		ServerMaxWindowBits:     15,
		ClientMaxWindowBits:     15,
	}
	if a.ServerMaxWindowBits.Defined() {
		n.ServerMaxWindowBits = int(a.ServerMaxWindowBits)
	}
	if a.ClientMaxWindowBits.Defined() {
		n.ClientMaxWindowBits = int(a.ClientMaxWindowBits)
	}
	return n, nil
}

// negotiated checks the extensions the server selected (gobwas has checked
// that each is one the client offered) and returns the connection's
// permessage-deflate state, or nil when the server declined it.
func (t *Transport) negotiated(hs ws.Handshake) (*deflate, error) {
	cfg, selected := t.opts.compression, hs.Extensions
	if len(selected) == 0 || cfg == nil {
		return nil, nil
	}
	if len(selected) > 1 {
		return nil, fmt.Errorf("%w: Sec-WebSocket-Extensions header selects permessage-deflate %d times",
			transport.ErrBadHandshake, len(selected))
	}
	var a wsflate.Parameters
	if err := a.Parse(selected[0]); err != nil {
		return nil, fmt.Errorf("%w: permessage-deflate parameters: %w", transport.ErrBadHandshake, err)
	}
	n, err := cfg.accept(a)
	if err != nil {
		return nil, err
	}
	return newDeflate(cfg, n), nil
}
