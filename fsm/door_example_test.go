package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/tethertest"
)

// Door is a user's own state type: a door with a keypad lock.
type Door uint8

const (
	DoorClosed Door = iota
	DoorOpen
	DoorLocked
)

func (d Door) String() string { return [...]string{"Closed", "Open", "Locked"}[d] }

// DoorEvent is the door's event type. Zero is left unused: it is the event
// of the snapshot a new machine starts from.
type DoorEvent uint8

const (
	_ DoorEvent = iota
	OpenDoor
	CloseDoor
	LockDoor
	UnlockDoor
)

func (e DoorEvent) String() string { return [...]string{"none", "open", "close", "lock", "unlock"}[e] }

// ErrWrongCode is what the unlock rule's guard refuses with.
var ErrWrongCode = errors.New("wrong code")

// doorDef declares the door: the table as data. The unlock rule has a
// guard that reads the keypad (a value of the program's own). Every
// opening starts a new epoch, so a close meant for an earlier opening is
// refused as stale.
func doorDef(keypad *string) fsm.Def[Door, DoorEvent] {
	return fsm.Def[Door, DoorEvent]{
		Name:    "door",
		Initial: DoorClosed,
		Rules: []fsm.RuleOf[Door, DoorEvent]{
			{From: DoorClosed, Event: OpenDoor, To: DoorOpen, Meaning: "Someone opens it."},
			{From: DoorOpen, Event: CloseDoor, To: DoorClosed, Meaning: "Someone closes it, or the closer does."},
			{From: DoorClosed, Event: LockDoor, To: DoorLocked, Meaning: "Locked from the keypad."},
			{From: DoorLocked, Event: UnlockDoor, To: DoorClosed, Meaning: "Unlocked with the right code.",
				Guard: func(fsm.TransitionOf[Door, DoorEvent]) error {
					if *keypad != "1234" {
						return ErrWrongCode
					}
					return nil
				}},
		},
		Epochs: []Door{DoorOpen},
	}
}

// A machine of your own: declare the table, run it, refuse what it
// forbids, and let a hook ask for a follow-up (the door locks itself when
// it closes).
func ExampleNewOf() {
	keypad := ""
	m, err := fsm.NewOf(doorDef(&keypad))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	m.AddHook(func(t fsm.TransitionOf[Door, DoorEvent]) (fsm.InputOf[DoorEvent], bool) {
		return fsm.InputOf[DoorEvent]{Event: LockDoor}, t.To == DoorClosed // lock on every close
	})
	ctx := context.Background()

	opened, _ := m.Fire(ctx, fsm.InputOf[DoorEvent]{Event: OpenDoor})
	fmt.Println(opened)
	fmt.Println(m.Fire(ctx, fsm.InputOf[DoorEvent]{Event: CloseDoor, Epoch: opened.Epoch}))
	fmt.Println("then:", m.Last())

	_, err = m.Fire(ctx, fsm.InputOf[DoorEvent]{Event: OpenDoor})
	var forbidden *fsm.ForbiddenErrorOf[Door, DoorEvent]
	if errors.As(err, &forbidden) {
		fmt.Println("forbidden:", forbidden.Event, "in", forbidden.State)
	}
	_, err = m.Fire(ctx, fsm.InputOf[DoorEvent]{Event: UnlockDoor})
	fmt.Println("refused:", errors.Is(err, fsm.ErrRefused), errors.Is(err, ErrWrongCode))
	keypad = "1234"
	_, err = m.Fire(ctx, fsm.InputOf[DoorEvent]{Event: UnlockDoor})
	fmt.Println("unlocked:", err == nil, "state:", m.State()) // and locked again by the hook
	// Output:
	// #1 Closed --open--> Open
	// #2 Open --close--> Closed <nil>
	// then: #3 Closed --lock--> Locked
	// forbidden: open in Locked
	// refused: true true
	// unlocked: true state: Locked
}

// The door's diagram, drawn from its table, in Mermaid.
func ExampleDef_Diagram() {
	keypad := ""
	out, err := doorDef(&keypad).Diagram(fsm.Mermaid)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(out)
	// Output:
	// stateDiagram-v2
	//     [*] --> Closed
	//     Closed --> Open: open
	//     Open --> Closed: close
	//     Closed --> Locked: lock
	//     Locked --> Closed: unlock
}

// The same diagram in Graphviz DOT, from a running machine (it reads the
// table, never the live state).
func ExampleMachineOf_Diagram() {
	keypad := ""
	m, _ := fsm.NewOf(doorDef(&keypad))
	defer m.Close()
	out, _ := m.Diagram(fsm.DOT)
	fmt.Print(out)
	// Output:
	// digraph door {
	//     rankdir=LR;
	//     node [shape=box, style=rounded];
	//     start [shape=point];
	//     start -> "Closed";
	//     "Closed" -> "Open" [label="open"];
	//     "Open" -> "Closed" [label="close"];
	//     "Closed" -> "Locked" [label="lock"];
	//     "Locked" -> "Closed" [label="unlock"];
	// }
}

// What really happened to the door, recorded by a subscription and drawn
// as Mermaid and DOT traces. A close that an earlier opening's timer sends
// is stale: the door was opened again since.
func ExampleMachineOf_TraceMermaid() {
	clk := tethertest.NewFakeClock(time.Time{})
	keypad := ""
	m, _ := fsm.NewOf(doorDef(&keypad), fsm.WithClock(clk))
	rec := m.Subscribe(context.Background())
	ctx := context.Background()

	first, _ := m.Fire(ctx, fsm.InputOf[DoorEvent]{Event: OpenDoor})
	clk.Step(2 * time.Second)
	_, _ = m.Fire(ctx, fsm.InputOf[DoorEvent]{Event: CloseDoor, Cause: errors.New("closed by hand")})
	clk.Step(time.Second)
	_, _ = m.Fire(ctx, fsm.InputOf[DoorEvent]{Event: OpenDoor})
	_, err := m.Fire(ctx, fsm.InputOf[DoorEvent]{Event: CloseDoor, Epoch: first.Epoch}) // the first opening's closer
	fmt.Println("stale:", errors.Is(err, fsm.ErrStale))
	_ = m.Close()

	var trace []fsm.TransitionOf[Door, DoorEvent]
	for t := range rec.C() {
		trace = append(trace, t)
	}
	fmt.Print(m.TraceMermaid(trace))
	fmt.Print(m.TraceDOT(trace))
	// Output:
	// stale: true
	// sequenceDiagram
	//     participant Closed
	//     participant Open
	//     participant Locked
	//     Closed->>Open: 1. open at +0s
	//     Open->>Closed: 2. close at +2s, closed by hand
	//     Closed->>Open: 3. open at +3s
	// digraph trace {
	//     rankdir=LR;
	//     node [shape=box, style=rounded];
	//     "Closed";
	//     "Open";
	//     "Locked";
	//     "Closed" -> "Open" [label="1. open at +0s"];
	//     "Open" -> "Closed" [label="2. close at +2s, closed by hand"];
	//     "Closed" -> "Open" [label="3. open at +3s"];
	// }
}
