package fsm_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/tether-go/tether/fsm"
)

// TestPropertyConcurrentEvents fires random event sequences from several
// goroutines at once, with a hook that queues follow-ups, and checks what
// every observer saw.
func TestPropertyConcurrentEvents(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		baseline := goleak.IgnoreCurrent()
		workers := rapid.IntRange(2, 4).Draw(rt, "workers")
		scripts := make([][]fsm.Event, workers)
		for i := range scripts {
			scripts[i] = rapid.SliceOfN(rapid.SampledFrom(fsm.Events()), 1, 25).Draw(rt, "events")
		}
		maxRetries := rapid.IntRange(0, 3).Draw(rt, "retries")

		m := fsm.New()
		var hookMismatch atomic.Int32
		m.AddHook(func(tr fsm.Transition) (fsm.Input, bool) {
			if m.State() != tr.To {
				hookMismatch.Add(1)
			}
			if tr.To == fsm.Waiting && tr.Attempt < maxRetries {
				return fsm.Input{Event: fsm.EventRetry, Attempt: tr.Attempt + 1}, true
			}
			return fsm.Input{}, false
		})

		const nsubs = 3
		seen := make([][]fsm.Transition, nsubs)
		var readers sync.WaitGroup
		for i := range nsubs {
			sub := m.Subscribe(context.Background())
			readers.Go(func() {
				for tr := range sub.C() {
					seen[i] = append(seen[i], tr)
				}
			})
		}

		var mu sync.Mutex
		var fired []fsm.Transition
		var writers sync.WaitGroup
		for _, script := range scripts {
			writers.Go(func() {
				for _, ev := range script {
					tr, err := m.Fire(context.Background(), fsm.Input{Event: ev})
					if err == nil {
						mu.Lock()
						fired = append(fired, tr)
						mu.Unlock()
					}
				}
			})
		}
		writers.Wait()
		// Let queued follow-ups run: one more input is processed after them.
		_, _ = m.Fire(context.Background(), fsm.Input{Event: fsm.EventNone})
		final := m.State()
		last := m.Last()
		if err := m.Close(); err != nil {
			rt.Fatalf("Close: %v", err)
		}
		readers.Wait()

		if n := hookMismatch.Load(); n > 0 {
			rt.Fatalf("State() differed from the transition's To inside %d hooks", n)
		}
		ref := seen[0]
		if len(ref) == 0 || ref[0].Seq != 0 {
			rt.Fatalf("the first delivery must be the snapshot, got %v", ref)
		}
		for i := 1; i < len(ref); i++ {
			tr := ref[i]
			if tr.Seq != uint64(i) {
				rt.Fatalf("gap or reorder: position %d has Seq %d", i, tr.Seq)
			}
			if to, ok := fsm.Next(tr.From, tr.Event); !ok || to != tr.To {
				rt.Fatalf("transition outside the table: %v", tr)
			}
			if ref[i-1].To != tr.From {
				rt.Fatalf("broken chain: %v then %v", ref[i-1], tr)
			}
		}
		if got := ref[len(ref)-1]; got.To != final || got != last {
			rt.Fatalf("State() %s and Last() %v differ from the last emitted %v", final, last, got)
		}
		for i := 1; i < nsubs; i++ {
			if len(seen[i]) != len(ref) {
				rt.Fatalf("subscriber %d saw %d transitions, subscriber 0 saw %d", i, len(seen[i]), len(ref))
			}
			for j := range ref {
				if seen[i][j] != ref[j] {
					rt.Fatalf("subscriber %d differs at %d: %v vs %v", i, j, seen[i][j], ref[j])
				}
			}
		}
		for _, tr := range fired {
			if tr.Seq >= uint64(len(ref)) || ref[tr.Seq] != tr {
				rt.Fatalf("Fire returned %v, which subscribers did not see at its Seq", tr)
			}
		}
		goleak.VerifyNone(rt, baseline)
	})
}
