// Package goid tells which goroutine is running. tether uses it in one place:
// Client.Close must not wait for the callback serializer when a callback is
// the caller, since that would wait for itself.
package goid

import (
	"bytes"
	"runtime"
	"strconv"
)

// Current returns the running goroutine's id, read from the first line of its
// stack trace ("goroutine 42 [running]:"). It costs about a microsecond; do
// not call it on a hot path.
func Current() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	line := bytes.TrimPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(line, ' '); i > 0 {
		if id, err := strconv.ParseUint(string(line[:i]), 10, 64); err == nil {
			return id
		}
	}
	return 0
}
