//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package websocket

import "net"

// socketOf offers no way into the socket on this system: the read buffer
// is kept, and every fill is a plain read.
func socketOf(net.Conn) (wait func() error, try func(b []byte) (int, error, bool)) {
	return nil, nil
}
