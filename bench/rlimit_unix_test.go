//go:build unix

package bench

import "syscall"

// fdLimit raises the soft limit on open files to the hard limit (the Go
// runtime does this at start-up on Linux already; this covers the other
// systems) and returns the soft limit in force.
func fdLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = raised.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			lim = raised
		}
	}
	return uint64(lim.Cur), nil
}
