//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package websocket

import (
	"errors"
	"net"
	"syscall"
)

// readableWaiter returns a function that waits until nc has bytes to read,
// without reading them, or nil when nc offers no way to do that (TLS, a
// custom connection). It peeks one byte with MSG_PEEK|MSG_DONTWAIT and lets
// the runtime's poller wait while the socket is empty, so deadlines and
// Close interrupt it as they do a read.
func readableWaiter(nc net.Conn) func() error {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var peek [1]byte
	// check reports whether the socket has something for a read: bytes,
	// the end of the stream, or an error (the read that follows reports
	// the last two properly). Only EAGAIN, an empty socket, makes the
	// poller wait.
	check := func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(err, syscall.EAGAIN)
	}
	return func() error { return rc.Read(check) }
}
