package tether_test

import (
	"net"
	"syscall"
	"unsafe"
)

// unsentBytes returns how many bytes c's kernel still holds that its peer
// has not acknowledged (TIOCOUTQ), or 0 when it cannot tell.
func unsentBytes(c net.Conn) int {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return 0
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0
	}
	var n int32
	_ = rc.Control(func(fd uintptr) {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
			n = 0
		}
	})
	return int(n)
}
