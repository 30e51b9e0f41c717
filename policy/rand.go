package policy

import (
	"math/rand/v2"
	"sync"
)

// Rand is the source of randomness for jitter. Float64 returns a number in
// [0, 1); values outside are clamped. Implementations must be safe for
// concurrent use, because one policy may serve many connections.
type Rand interface {
	Float64() float64
}

// NewRand returns a goroutine-safe source seeded with seed, for tests and
// reproducible runs. Two sources with the same seed give the same sequence.
func NewRand(seed uint64) Rand {
	return &lockedRand{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

// Float64 is safe for concurrent use.
func (l *lockedRand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// processRand is the default source: math/rand/v2's top-level generator,
// randomly seeded per process and safe for concurrent use without a shared
// lock. Different processes draw different jitter, which is the point.
type processRand struct{}

func (processRand) Float64() float64 { return rand.Float64() }

// orDefault returns r, or the process-wide source when r is nil.
func orDefault(r Rand) Rand {
	if r == nil {
		return processRand{}
	}
	return r
}

// unit draws from r and clamps the value into [0, 1), so a faulty custom
// source cannot push a delay outside its bounds.
func unit(r Rand) float64 {
	f := orDefault(r).Float64()
	switch {
	case f >= 0 && f < 1:
		return f
	case f >= 1:
		return 0x1.fffffffffffffp-1 // the largest float64 below 1
	default: // negative or NaN
		return 0
	}
}
