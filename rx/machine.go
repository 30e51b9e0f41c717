package rx

import (
	"context"

	"github.com/reactivex/rxgo/v2"

	"github.com/tether-go/tether/fsm"
)

// Machine returns an Observable of m's transitions, starting with the
// latest one (or the Seq 0 snapshot), for any machine: the connection
// lifecycle, or one a program declared with fsm.NewOf. Each item's V is an
// fsm.TransitionOf[S, E]. It is backed by its own fsm subscription, which
// never drops a transition, and one goroutine that hands them to rxgo; both
// end when ctx ends or the machine is closed and every transition was
// handed on (the Observable then completes). Every call makes a separate
// subscription: observe the result once, and call Machine again for
// another pipeline.
func Machine[S, E comparable](ctx context.Context, m *fsm.MachineOf[S, E]) rxgo.Observable {
	if ctx == nil {
		ctx = context.Background()
	}
	sub := m.Subscribe(ctx)
	out := make(chan rxgo.Item)
	go func() {
		defer close(out)
		defer sub.Close()
		for tr := range sub.C() {
			select {
			case out <- rxgo.Of(tr):
			case <-ctx.Done():
				return
			}
		}
	}()
	return rxgo.FromChannel(out, rxgo.WithContext(ctx))
}
