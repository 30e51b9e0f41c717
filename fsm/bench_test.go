package fsm_test

import (
	"context"
	"testing"

	"github.com/tether-go/tether/fsm"
)

// BenchmarkTransition measures one transition through the Machine: the
// caller's Fire, the hand-off to the actor, the looplab event, the
// publication and the reply. One op is one transition, cycling through
// Open --dropped--> Waiting --retry--> Connecting --dialed--> Open.
func BenchmarkTransition(b *testing.B) {
	m := fsm.New()
	defer m.Close()
	ctx := context.Background()
	for _, ev := range []fsm.Event{fsm.EventConnect, fsm.EventDialed} {
		if _, err := m.Fire(ctx, fsm.Input{Event: ev}); err != nil {
			b.Fatal(err)
		}
	}
	cycle := [...]fsm.Input{{Event: fsm.EventDropped}, {Event: fsm.EventRetry, Attempt: 1}, {Event: fsm.EventDialed}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := m.Fire(ctx, cycle[i%len(cycle)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransitionWithSubscriber adds one subscriber that reads every
// transition, as the Client's observers do.
func BenchmarkTransitionWithSubscriber(b *testing.B) {
	m := fsm.New()
	ctx := context.Background()
	sub := m.Subscribe(ctx)
	done := make(chan struct{})
	go func() {
		for range sub.C() {
		}
		close(done)
	}()
	for _, ev := range []fsm.Event{fsm.EventConnect, fsm.EventDialed} {
		if _, err := m.Fire(ctx, fsm.Input{Event: ev}); err != nil {
			b.Fatal(err)
		}
	}
	cycle := [...]fsm.Input{{Event: fsm.EventDropped}, {Event: fsm.EventRetry, Attempt: 1}, {Event: fsm.EventDialed}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := m.Fire(ctx, cycle[i%len(cycle)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	_ = m.Close()
	<-done
}
