package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/tethertest"
)

func ExampleMachine() {
	m := fsm.New()
	defer m.Close()
	ctx := context.Background()

	tr, _ := m.Fire(ctx, fsm.Input{Event: fsm.EventConnect})
	fmt.Println(tr)
	tr, _ = m.Fire(ctx, fsm.Input{Event: fsm.EventDialed})
	fmt.Println(tr)

	// The table does not allow a retry while Open.
	_, err := m.Fire(ctx, fsm.Input{Event: fsm.EventRetry})
	var forbidden *fsm.ForbiddenError
	if errors.As(err, &forbidden) {
		fmt.Println("refused:", forbidden.Event, "in", forbidden.State)
	}
	fmt.Println("state:", m.State())
	// Output:
	// #1 Idle --connect--> Connecting
	// #2 Connecting --dialed--> Open
	// refused: retry in Open
	// state: Open
}

func ExampleMachine_AddHook() {
	m := fsm.New()
	defer m.Close()
	// An adapter reacts to entering Waiting by asking for a retry. The
	// follow-up is queued, never fired from inside the transition.
	m.AddHook(func(tr fsm.Transition) (fsm.Input, bool) {
		if tr.To == fsm.Waiting {
			return fsm.Input{Event: fsm.EventRetry, Attempt: tr.Attempt + 1}, true
		}
		return fsm.Input{}, false
	})
	ctx := context.Background()
	_, _ = m.Fire(ctx, fsm.Input{Event: fsm.EventConnect})
	_, _ = m.Fire(ctx, fsm.Input{Event: fsm.EventDialFailed, Cause: errors.New("connection refused")})
	m.WaitForStateChange(ctx, fsm.Waiting)
	fmt.Println(m.Last())
	// Output:
	// #3 Waiting --retry--> Connecting (attempt 1)
}

func ExampleDiagram() {
	out, _ := fsm.Diagram(fsm.Mermaid)
	fmt.Print(out)
	// Output:
	// stateDiagram-v2
	//     [*] --> Idle
	//     Idle --> Connecting: connect
	//     Idle --> Closed: close
	//     Connecting --> Open: dialed
	//     Connecting --> Waiting: dial_failed
	//     Connecting --> Closed: close
	//     Connecting --> Idle: disconnect
	//     Open --> Waiting: dropped
	//     Open --> Waiting: heartbeat_timeout
	//     Open --> Closing: close
	//     Open --> Disconnecting: disconnect
	//     Closing --> Closed: closed
	//     Closing --> Closed: dropped
	//     Disconnecting --> Idle: closed
	//     Disconnecting --> Idle: dropped
	//     Disconnecting --> Closing: close
	//     Waiting --> Connecting: retry
	//     Waiting --> Closed: give_up
	//     Waiting --> Closed: close
	//     Waiting --> Idle: disconnect
	//     Closed --> [*]
}

func ExampleTraceMermaid() {
	clk := tethertest.NewFakeClock(time.Time{})
	m := fsm.New(fsm.WithClock(clk))
	rec := m.Subscribe(context.Background()) // record from the start

	ctx := context.Background()
	_, _ = m.Fire(ctx, fsm.Input{Event: fsm.EventConnect, Transport: "memory"})
	clk.Step(20 * time.Millisecond)
	_, _ = m.Fire(ctx, fsm.Input{Event: fsm.EventDialed})
	clk.Step(time.Second)
	_, _ = m.Fire(ctx, fsm.Input{Event: fsm.EventDropped, CloseCode: 1006, Cause: errors.New("unexpected EOF")})
	clk.Step(500 * time.Millisecond)
	_, _ = m.Fire(ctx, fsm.Input{Event: fsm.EventRetry, Attempt: 1})
	_ = m.Close()

	var trace []fsm.Transition
	for tr := range rec.C() {
		trace = append(trace, tr)
	}
	fmt.Print(fsm.TraceMermaid(trace))
	// Output:
	// sequenceDiagram
	//     participant Idle
	//     participant Connecting
	//     participant Open
	//     participant Closing
	//     participant Disconnecting
	//     participant Waiting
	//     participant Closed
	//     Idle->>Connecting: 1. connect at +0s, memory
	//     Connecting->>Open: 2. dialed at +20ms, memory
	//     Open->>Waiting: 3. dropped at +1.02s, memory, code 1006, unexpected EOF
	//     Waiting->>Connecting: 4. retry at +1.52s, attempt 1, memory
}
