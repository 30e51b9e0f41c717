package fsm

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// firstStage is the value of the first state DefineStage hands out; the
// lifecycle's own states stay below it.
const firstStage State = 32

// stageNames holds the names of the defined stages, by State-firstStage.
// Readers load it without a lock; DefineStage replaces it.
var (
	stageMu    sync.Mutex
	stageNames atomic.Pointer[[]string]
)

// DefineStage returns the lifecycle state named name: an application's own
// step between the socket opening and the connection being ready, such as
// "Authenticating" or "Resubscribing". Declare it once, at package level:
//
//	var Authenticating = fsm.DefineStage("Authenticating")
//
// and give it to a client (tether.WithStage), or to [LifecycleWith]. The
// same name always returns the same State, in any package, so a program
// that declares a stage twice gets one state. The state names itself in
// diagrams, traces and [State.String].
//
// It panics, as flag does on a bad flag, when name is not an identifier (a
// letter or '_' followed by letters, digits and '_'), names a state of the
// lifecycle's own, or when more than 224 stages are defined.
func DefineStage(name string) State {
	if !validName(name) {
		panic(fmt.Sprintf("fsm.DefineStage(%q): a stage's name is a letter or '_' followed by letters, digits and '_'", name))
	}
	if slices.Contains(stateNames[:], name) {
		panic(fmt.Sprintf("fsm.DefineStage(%q): the lifecycle has a state of that name already", name))
	}
	stageMu.Lock()
	defer stageMu.Unlock()
	var names []string
	if p := stageNames.Load(); p != nil {
		names = *p
	}
	if i := slices.Index(names, name); i >= 0 {
		return firstStage + State(i)
	}
	if len(names) == 256-int(firstStage) {
		panic(fmt.Sprintf("fsm.DefineStage(%q): %d stages are defined already, the most there can be", name, len(names)))
	}
	names = append(slices.Clip(names), name)
	stageNames.Store(&names)
	return firstStage + State(len(names)-1)
}

// IsStage reports whether s is a state made by [DefineStage].
func (s State) IsStage() bool {
	_, ok := stageName(s)
	return ok
}

// stageName returns the name of the stage s, if DefineStage made it.
func stageName(s State) (string, bool) {
	if s < firstStage {
		return "", false
	}
	p := stageNames.Load()
	if p == nil || int(s-firstStage) >= len(*p) {
		return "", false
	}
	return (*p)[s-firstStage], true
}

// LifecycleWith returns the lifecycle with stages between the socket
// opening and Open, in the order given: the dialed event leads from
// Connecting to the first stage, EventStageDone from each stage to the
// next and from the last to Open, where the connection is ready. From a
// stage, EventStageFailed (the stage said no, or ran out of time),
// EventDropped and EventHeartbeatTimeout lead to Waiting, as from Open, so
// the reconnect policy decides what follows; EventClose and
// EventDisconnect start the close handshake. Without stages it is
// [Lifecycle]. Every stage must come from DefineStage, once: anything else
// makes the definition invalid ([Def.Validate] says why).
func LifecycleWith(stages ...State) Def[State, Event] {
	d := Lifecycle()
	if len(stages) == 0 {
		return d
	}
	rules := make([]Rule, 0, len(d.Rules)+8*len(stages))
	for _, r := range d.Rules {
		if r.From == Connecting && r.Event == EventDialed {
			r.To = stages[0]
			r.Meaning = "The dial and handshake succeeded: the socket is open, and the first stage starts."
		}
		rules = append(rules, r)
	}
	for i, s := range stages {
		next, meaning := Open, "The last stage passed: the connection is ready."
		if i+1 < len(stages) {
			next, meaning = stages[i+1], "The stage passed: the next one starts."
		}
		rules = append(rules,
			Rule{From: s, Event: EventStageDone, To: next, Meaning: meaning},
			Rule{From: s, Event: EventStageFailed, To: Waiting, Meaning: "The stage failed or timed out; the reconnect policy is asked for a delay."},
			Rule{From: s, Event: EventDropped, To: Waiting, Meaning: "The connection ended during the stage."},
			Rule{From: s, Event: EventHeartbeatTimeout, To: Waiting, Meaning: "Nothing arrived within the pong timeout during the stage."},
			Rule{From: s, Event: EventClose, To: Closing, Meaning: "Close was called during the stage: the close handshake starts."},
			Rule{From: s, Event: EventDisconnect, To: Disconnecting, Meaning: "Disconnect was called during the stage: the close handshake starts."},
		)
	}
	d.Rules = rules
	states := make([]State, 0, len(d.States)+len(stages))
	for _, s := range d.States {
		states = append(states, s)
		if s == Connecting {
			states = append(states, stages...)
		}
	}
	d.States = states
	return d
}
