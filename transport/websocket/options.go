package websocket

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Defaults. See the package documentation for the reasoning behind each.
const (
	// DefaultDialTimeout bounds the TCP connect, the TLS handshake and the
	// WebSocket handshake together, like gRPC's minimum connect timeout.
	DefaultDialTimeout = 20 * time.Second
	// DefaultCloseTimeout bounds the close handshake.
	DefaultCloseTimeout = 5 * time.Second
	// DefaultMaxMessageSize is the largest inbound message accepted, 16 MiB.
	DefaultMaxMessageSize = 16 << 20
	// DefaultReadBufferSize is the default size of the read buffer of a
	// connection that parks it while the socket is empty (a plain TCP
	// connection on Linux, macOS and the BSDs): 16 KiB. An idle connection
	// then holds no read buffer at all, and a busy one takes in four times
	// as many bytes per read system call as with 4 KiB.
	DefaultReadBufferSize = 16 << 10
	// DefaultBufferSize is the default size of the read buffer of a
	// connection that keeps it for its whole life because it cannot wait
	// for bytes without reading them (TLS, or a connection from
	// [WithNetDial] that is not a socket): 4 KiB.
	DefaultBufferSize = 4096
	// DefaultWriteBufferSize is the default size of the write buffer, 64
	// KiB: a connection holds it only while it has frames to write (an idle
	// one parks it, see the package documentation), and halves of 32 KiB
	// let a busy sender carry hundreds of small messages per write system
	// call.
	DefaultWriteBufferSize = 64 << 10
	// MinBufferSize is the smallest read or write buffer accepted.
	MinBufferSize = 256
)

// Option configures a [Transport]. Options are applied in order by [New];
// a later option overrides an earlier one.
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

// NetDialFunc opens the raw connection to addr ("host:port") on network
// ("tcp"). It must honour ctx.
type NetDialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ProxyFunc picks the proxy for a request, like [http.Transport.Proxy]: it
// returns nil for a direct connection. The request carries the target URL
// with the scheme mapped to http or https.
type ProxyFunc func(*http.Request) (*url.URL, error)

type options struct {
	tlsConfig      *tls.Config
	dialTimeout    time.Duration
	closeTimeout   time.Duration
	readTimeout    time.Duration
	maxMessageSize int64
	maxFrameSize   int64 // 0 until resolved: then min(set value, maxMessageSize)
	readBufSize    int   // 0: the default, which depends on the connection (see newConn)
	writeBufSize   int
	proxy          ProxyFunc
	netDial        NetDialFunc
	compression    *Compression // nil: permessage-deflate is not offered
}

func defaultOptions() options {
	return options{
		dialTimeout:    DefaultDialTimeout,
		closeTimeout:   DefaultCloseTimeout,
		maxMessageSize: DefaultMaxMessageSize,
		writeBufSize:   DefaultWriteBufferSize,
		proxy:          http.ProxyFromEnvironment,
	}
}

// resolve checks the combination of options and fills derived defaults.
func (o *options) resolve() error {
	if o.maxFrameSize == 0 {
		o.maxFrameSize = o.maxMessageSize
	}
	if o.maxFrameSize > o.maxMessageSize {
		return &OptionError{Option: "WithMaxFrameSize", Reason: "larger than the max message size"}
	}
	return nil
}

// WithTLSConfig sets the TLS configuration for wss:// URLs (and for an
// https:// proxy). The config is cloned; ServerName is filled from the URL
// when empty. Verification stays on unless the config turns it off. Use it
// to trust a private CA through RootCAs or to present a client certificate.
// A nil config means the default: the system roots, TLS 1.2 at least.
func WithTLSConfig(c *tls.Config) Option {
	return optionFunc(func(o *options) error {
		if c == nil {
			o.tlsConfig = nil
			return nil
		}
		o.tlsConfig = c.Clone()
		return nil
	})
}

// WithDialTimeout bounds the TCP connect, proxy CONNECT, TLS handshake and
// WebSocket handshake together (default [DefaultDialTimeout]). When it runs
// out, Dial returns an error matching [transport.ErrTimeout]. d must be
// positive; a shorter deadline on the Dial context still applies.
func WithDialTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) error {
		if d <= 0 {
			return &OptionError{Option: "WithDialTimeout", Reason: "must be positive"}
		}
		o.dialTimeout = d
		return nil
	})
}

// WithCloseTimeout bounds the close handshake (default
// [DefaultCloseTimeout]): how long Close waits for its turn to write the
// close frame and then for the peer's close frame before it drops the
// connection. It also bounds the close this side sends when the peer
// breaks the protocol. d must be positive.
func WithCloseTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) error {
		if d <= 0 {
			return &OptionError{Option: "WithCloseTimeout", Reason: "must be positive"}
		}
		o.closeTimeout = d
		return nil
	})
}

// WithReadTimeout sets an idle read deadline: when no frame starts within d,
// the connection fails with an error matching [transport.ErrTimeout]. The
// default 0 means no deadline; the heartbeat is the usual way to detect a
// dead peer. d must not be negative.
func WithReadTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) error {
		if d < 0 {
			return &OptionError{Option: "WithReadTimeout", Reason: "must not be negative"}
		}
		o.readTimeout = d
		return nil
	})
}

// WithMaxMessageSize limits the size of an inbound message, after its
// fragments are joined (default [DefaultMaxMessageSize], 16 MiB). A larger
// message closes the connection with 1009 and an error matching
// [transport.ErrMessageTooLarge]. n must be positive. Outbound messages are
// not limited.
func WithMaxMessageSize(n int64) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return &OptionError{Option: "WithMaxMessageSize", Reason: "must be positive"}
		}
		o.maxMessageSize = n
		return nil
	})
}

// WithMaxFrameSize limits the payload of one inbound frame (default: the max
// message size). A larger frame closes the connection with 1009. n must be
// positive and no larger than the max message size.
func WithMaxFrameSize(n int64) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return &OptionError{Option: "WithMaxFrameSize", Reason: "must be positive"}
		}
		o.maxFrameSize = n
		return nil
	})
}

// WithReadBufferSize sets the size of the buffered reader on each connection
// (default [DefaultReadBufferSize] when the connection can park it while
// idle, [DefaultBufferSize] otherwise). n must be at least [MinBufferSize].
func WithReadBufferSize(n int) Option {
	return optionFunc(func(o *options) error {
		if n < MinBufferSize {
			return &OptionError{Option: "WithReadBufferSize", Reason: "below MinBufferSize"}
		}
		o.readBufSize = n
		return nil
	})
}

// WithWriteBufferSize sets the size of the write buffer of each connection
// (default [DefaultWriteBufferSize]; at least 512 bytes are used). It is split
// in two halves: frames queue in one while the other is written, so half
// of it is the most that one write system call carries and the most that
// waits before Write blocks. n must be at least [MinBufferSize].
func WithWriteBufferSize(n int) Option {
	return optionFunc(func(o *options) error {
		if n < MinBufferSize {
			return &OptionError{Option: "WithWriteBufferSize", Reason: "below MinBufferSize"}
		}
		o.writeBufSize = n
		return nil
	})
}

// WithProxy sets how the proxy is chosen for each Dial. The default is
// [http.ProxyFromEnvironment]: HTTPS_PROXY for wss, HTTP_PROXY for ws,
// honouring NO_PROXY (read once per process, as net/http does). Plain
// http:// and https:// proxies are supported, through CONNECT; credentials
// in the proxy URL are sent as Proxy-Authorization. WithProxy(nil) dials
// directly.
func WithProxy(f func(*http.Request) (*url.URL, error)) Option {
	return optionFunc(func(o *options) error {
		o.proxy = f
		return nil
	})
}

// WithNetDial replaces the function that opens the TCP connection (to the
// target, or to the proxy when one is used). Tests use it to dial an
// in-memory listener or a fault injector. nil restores the default
// net.Dialer. The connection's write deadline must interrupt a blocked
// write, as a net.TCPConn's does: that is how a Write whose ctx ends stops
// waiting for the network (see the package documentation, Writing); with a
// connection that ignores it, such a Write returns only when the write
// does, and the connection still stays up.
func WithNetDial(f func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return optionFunc(func(o *options) error {
		o.netDial = f
		return nil
	})
}
