package policy

import "strconv"

// Jitter says how [Exponential] randomises its delays. Randomness spreads the
// reconnects of many clients that lost their server at the same moment, so
// they do not all come back together (the thundering herd).
type Jitter uint8

// Jitter kinds. With d the exponential delay of the attempt (capped at Max):
const (
	// JitterDefault is the zero value; it means [JitterEqual].
	JitterDefault Jitter = iota
	// JitterNone uses d exactly. Deterministic; use it in tests and examples,
	// not in fleets.
	JitterNone
	// JitterFull draws uniformly from [0, d): the widest spread, but a
	// retry may come almost at once.
	JitterFull
	// JitterEqual draws uniformly from [d/2, d): half the spread of full
	// jitter with a guaranteed minimum wait. The default.
	JitterEqual
	// JitterDecorrelated draws uniformly from [Initial, min(Max,
	// 3*PrevDelay)), the AWS "decorrelated jitter" scheme. It ignores
	// Multiplier and the attempt number and reads the previous delay from
	// [RetryContext.PrevDelay].
	JitterDecorrelated
)

var jitterNames = [...]string{"default", "none", "full", "equal", "decorrelated"}

// String returns "none", "full", "equal", "decorrelated" or "default".
// Safe from any goroutine.
func (j Jitter) String() string {
	if int(j) < len(jitterNames) {
		return jitterNames[j]
	}
	return "Jitter(" + strconv.Itoa(int(j)) + ")"
}

func (j Jitter) valid() bool { return j <= JitterDecorrelated }
