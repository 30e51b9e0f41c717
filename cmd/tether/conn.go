package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// connFlags are the connection flags dial and trace share.
type connFlags struct {
	fs           *flag.FlagSet
	headers      headerFlag
	subprotocols listFlag
	heartbeat    time.Duration
	pongTimeout  time.Duration
	reconnect    string
	initial      time.Duration
	max          time.Duration
	maxAttempts  int
	dialTimeout  time.Duration
	cacert       string
}

// register declares the connection flags on fs.
func (f *connFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.Var(&f.headers, "H", "add the handshake `header` \"Name: value\" (repeatable)")
	fs.Var(&f.subprotocols, "subprotocol", "offer a subprotocol, in preference order (repeatable, or a comma `list`)")
	fs.DurationVar(&f.heartbeat, "heartbeat", policy.DefaultHeartbeatInterval, "ping the server every `interval`; 0 turns the heartbeat off")
	fs.DurationVar(&f.pongTimeout, "pong-timeout", 0, "drop the connection when nothing arrives within `d` of a ping;\ndefault 10s, or 2/3 of -heartbeat when that is shorter than 15s")
	fs.StringVar(&f.reconnect, "reconnect", "exponential", "reconnect `policy`: exponential, constant:DURATION, signalr, phoenix or never")
	fs.DurationVar(&f.initial, "initial", policy.DefaultInitial, "first delay of -reconnect exponential")
	fs.DurationVar(&f.max, "max", policy.DefaultMax, "longest delay of -reconnect exponential")
	fs.IntVar(&f.maxAttempts, "max-attempts", 0, "give up after `n` reconnect attempts in a row; 0 means no limit")
	fs.DurationVar(&f.dialTimeout, "dial-timeout", websocket.DefaultDialTimeout, "bound on the TCP connect, TLS and WebSocket handshakes of one attempt")
	fs.StringVar(&f.cacert, "cacert", "", "also trust the CA certificates in this PEM `file` (TLS verification stays on)")
}

// options turns the flags into client options. Bad values are usage
// errors; a -cacert file that cannot be used is a runtime error.
func (f *connFlags) options() ([]tether.Option, error) {
	var opts []tether.Option
	if len(f.headers.h) > 0 {
		opts = append(opts, tether.WithHeader(f.headers.h))
	}
	if len(f.subprotocols) > 0 {
		if err := (transport.Target{Subprotocols: f.subprotocols}).Check(); err != nil {
			return nil, usagef("-subprotocol: %w", err)
		}
		opts = append(opts, tether.WithSubprotocols(f.subprotocols...))
	}
	hb, err := f.heartbeatOption()
	if err != nil {
		return nil, err
	}
	rp, err := f.reconnectPolicy()
	if err != nil {
		return nil, err
	}
	tr, err := f.transport()
	if err != nil {
		return nil, err
	}
	return append(opts, hb, tether.WithReconnect(rp), tether.WithTransport(tr)), nil
}

func (f *connFlags) heartbeatOption() (tether.Option, error) {
	h, err := f.heartbeatSettings()
	if err != nil {
		return nil, err
	}
	return tether.WithHeartbeat(h), nil
}

// heartbeatSettings turns -heartbeat and -pong-timeout into settings: off
// for -heartbeat 0, and a pong timeout of 10 s or 2/3 of a shorter
// interval when -pong-timeout is not given.
func (f *connFlags) heartbeatSettings() (policy.Heartbeat, error) {
	switch {
	case f.heartbeat < 0:
		return policy.Heartbeat{}, usagef("-heartbeat %s is negative", f.heartbeat)
	case f.heartbeat == 0:
		if isSet(f.fs, "pong-timeout") {
			return policy.Heartbeat{}, usagef("-pong-timeout needs a heartbeat: -heartbeat 0 turns it off")
		}
		return policy.DisabledHeartbeat(), nil
	}
	pong := f.pongTimeout
	if !isSet(f.fs, "pong-timeout") {
		pong = min(policy.DefaultPongTimeout, f.heartbeat*2/3)
		if pong <= 0 {
			return policy.Heartbeat{}, usagef("-heartbeat %s is too short", f.heartbeat)
		}
	}
	if pong <= 0 || pong >= f.heartbeat {
		return policy.Heartbeat{}, usagef("-pong-timeout %s must be positive and shorter than -heartbeat %s", pong, f.heartbeat)
	}
	h := policy.Heartbeat{Interval: f.heartbeat, PongTimeout: pong}
	if err := h.Validate(); err != nil {
		return policy.Heartbeat{}, &usageError{err: err}
	}
	return h, nil
}

func (f *connFlags) transport() (*websocket.Transport, error) {
	if f.dialTimeout <= 0 {
		return nil, usagef("-dial-timeout %s must be positive", f.dialTimeout)
	}
	opts := []websocket.Option{websocket.WithDialTimeout(f.dialTimeout)}
	if f.cacert != "" {
		pool, err := certPool(f.cacert)
		if err != nil {
			return nil, err
		}
		opts = append(opts, websocket.WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	tr, err := websocket.New(opts...)
	if errors.Is(err, websocket.ErrInvalidOption) {
		return nil, &usageError{err: err}
	}
	return tr, err
}

// certPool returns the system roots plus the certificates in the PEM file.
func certPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		// Not the path: a value typed in the wrong place may be a secret.
		if pe, ok := errors.AsType[*os.PathError](err); ok {
			err = pe.Err
		}
		return nil, fmt.Errorf("-cacert: cannot read the file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("-cacert: no PEM certificate in the file")
	}
	return pool, nil
}
