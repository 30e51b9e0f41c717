//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package websocket

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// socket reaches the socket under a net.Conn through its RawConn, for the
// reader (see parkReader): it can wait until bytes are there without
// reading them, and read without waiting. Both go through the runtime's
// poller, so deadlines and Close interrupt them as they do a read. One
// goroutine at a time uses it; its state lives here, so that a call
// allocates nothing.
//
// A read without waiting pays off on a busy connection, where bytes have
// nearly always arrived by the time the reader comes back; on a quiet one
// (a request, then its answer) it would be a wasted system call before
// every wait. So the socket goes cold when such a read finds it empty, and
// tryRead then declines at once, without a system call, until a wait finds
// bytes already there (the connection is busy again).
type socket struct {
	rc       syscall.RawConn
	nc       net.Conn // for the addresses of a read error
	peekFn   func(fd uintptr) bool
	readFn   func(fd uintptr) bool
	buf      []byte // the destination of the read under way
	got      int
	err      error
	empty    bool
	cold     bool // the last read without waiting found nothing: go straight to waiting
	peeks    int  // peek calls in the current wait: 1 when the bytes were already there
	peekByte [1]byte
}

// newSocket returns nc's socket, or nil when nc offers none (TLS, a custom
// connection).
func newSocket(nc net.Conn) *socket {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &socket{rc: rc, nc: nc}
	s.peekFn, s.readFn = s.peek, s.read
	return s
}

// wait returns once the socket has something for a read.
func (s *socket) wait() error {
	s.peeks = 0
	err := s.rc.Read(s.peekFn)
	if s.peeks == 1 {
		s.cold = false // nothing to wait for: the connection is busy
	}
	return err
}

// peek reports whether the socket has something for a read: bytes, the end
// of the stream, or an error (the read that follows reports the last two
// properly). It peeks one byte with MSG_PEEK|MSG_DONTWAIT; only EAGAIN, an
// empty socket, makes the poller wait.
func (s *socket) peek(fd uintptr) bool {
	s.peeks++
	_, _, err := syscall.Recvfrom(int(fd), s.peekByte[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return !errors.Is(err, syscall.EAGAIN)
}

// tryRead reads what the socket holds into b without waiting: done is
// false when it was empty (nothing read, nothing consumed), or when the
// socket is cold and tryRead did not look (see socket); otherwise n and
// err are what a read of the net.Conn would have returned (io.EOF at the
// end of the stream, a *net.OpError for a failure).
func (s *socket) tryRead(b []byte) (n int, err error, done bool) {
	if s.cold {
		return 0, nil, false
	}
	s.buf = b
	rerr := s.rc.Read(s.readFn)
	s.buf = nil
	if rerr != nil {
		return 0, rerr, true // closed, or the read deadline passed
	}
	n, err, s.err = s.got, s.err, nil
	return n, err, !s.empty
}

// read is tryRead's one read system call; it never asks the poller to
// wait (the caller parks its buffer first).
func (s *socket) read(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), s.buf)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			s.got, s.err, s.empty, s.cold = 0, nil, true, true
		case err != nil:
			// As the net package reports a failed read.
			s.got, s.err, s.empty = 0, &net.OpError{Op: "read", Net: s.nc.LocalAddr().Network(),
				Source: s.nc.LocalAddr(), Addr: s.nc.RemoteAddr(), Err: os.NewSyscallError("read", err)}, false
		case n == 0:
			s.got, s.err, s.empty = 0, io.EOF, false
		default:
			s.got, s.err, s.empty = n, nil, false
		}
		return true
	}
}

// socketOf returns the reader's two ways into nc's socket, or nil for both.
func socketOf(nc net.Conn) (wait func() error, try func(b []byte) (int, error, bool)) {
	if s := newSocket(nc); s != nil {
		return s.wait, s.tryRead
	}
	return nil, nil
}
