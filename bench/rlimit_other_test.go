//go:build !unix

package bench

import "math"

// fdLimit reports no limit where there is no RLIMIT_NOFILE.
func fdLimit() (uint64, error) { return math.MaxUint64, nil }
