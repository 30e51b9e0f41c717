//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package websocket

import (
	"errors"
	"io"
	"net"
	"os"
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

// nonblockingReader returns a function that reads what nc's socket holds
// into b without waiting: done is false when the socket was empty (nothing
// read, nothing consumed), and otherwise n and err are what a read of nc
// would have returned (io.EOF at the end of the stream, a *net.OpError for
// a failure). It returns nil when nc offers no socket. The function is
// for one goroutine at a time: it keeps its state between calls, so that
// a call allocates nothing.
func nonblockingReader(nc net.Conn) func(b []byte) (n int, err error, done bool) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var (
		buf   []byte
		got   int
		rerr  error
		empty bool
	)
	read := func(fd uintptr) bool {
		for {
			n, err := syscall.Read(int(fd), buf)
			switch {
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, syscall.EAGAIN):
				got, rerr, empty = 0, nil, true
			case err != nil:
				// As the net package reports a failed read.
				got, rerr, empty = 0, &net.OpError{Op: "read", Net: nc.LocalAddr().Network(),
					Source: nc.LocalAddr(), Addr: nc.RemoteAddr(), Err: os.NewSyscallError("read", err)}, false
			case n == 0:
				got, rerr, empty = 0, io.EOF, false
			default:
				got, rerr, empty = n, nil, false
			}
			return true // never wait: the caller parks its buffer first
		}
	}
	return func(b []byte) (int, error, bool) {
		buf = b
		err := rc.Read(read)
		buf = nil
		if err != nil {
			return 0, err, true // closed, or the read deadline passed
		}
		return got, rerr, !empty
	}
}
