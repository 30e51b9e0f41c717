//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package websocket

import "net"

// readableWaiter cannot wait without reading on this system: the read
// buffer is kept.
func readableWaiter(net.Conn) func() error { return nil }

// nonblockingReader cannot read without waiting on this system.
func nonblockingReader(net.Conn) func(b []byte) (int, error, bool) { return nil }
