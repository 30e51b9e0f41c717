package fsm

import (
	"errors"
	"fmt"
	"sync"
)

// Def declares a state machine: its states S, its events E and its
// transition table, as data. [NewOf] validates it and runs it; [Def.Diagram]
// draws it. The connection lifecycle is one Def ([Lifecycle]).
//
// States and events are the user's own comparable types, such as
// `type Door uint8` with constants, or `type Door string`. Each needs a name
// for the engine underneath, the diagrams and the errors: the one given in
// StateNames or EventNames, else its String method, else fmt's %v of it
// (a string type names itself). A name is a letter or '_' followed by
// letters, digits and '_', and names are unique among the states and among
// the events.
type Def[S, E comparable] struct {
	// Name names the DOT graph; the default is "machine". Same form as a
	// state's name.
	Name string
	// Initial is the state a new machine is in.
	Initial S
	// Rules is the transition table, in the order diagrams list it. At most
	// one rule per (From, Event).
	Rules []RuleOf[S, E]
	// Terminal lists the states no rule may leave; diagrams mark them.
	Terminal []S
	// States lists every state, in the order diagrams and traces list them.
	// When nil, the states are Initial, then those the rules name, in the
	// order they first appear. When set, a rule naming a state not listed is
	// an error.
	States []S
	// Epochs lists the states whose every entry starts a new epoch (see
	// [TransitionOf.Epoch] and [InputOf.Epoch]).
	Epochs []S
	// ResetAttempt lists the events that reset the attempt number to 0.
	ResetAttempt []E
	// StateNames and EventNames name states and events that have no String
	// method, or rename those that do.
	StateNames map[S]string
	EventNames map[E]string
}

// RuleOf is one row of a transition table: in state From, event Event moves
// the machine to state To, if Guard (when set) allows it. Meaning says what
// the row stands for, in words documentation can print.
type RuleOf[S, E comparable] struct {
	From    S
	Event   E
	To      S
	Meaning string
	// Guard, when set, is asked before the transition is made, with the
	// transition the machine would make. A non-nil error refuses the input:
	// Fire returns a [*RefusedErrorOf] that wraps it, and nothing changes.
	// A guard runs on the actor, as hooks do, under the same rules: it
	// returns quickly and never calls the machine's Fire or Close.
	Guard func(t TransitionOf[S, E]) error
}

// Rule is one row of the lifecycle's transition table.
type Rule = RuleOf[State, Event]

// Validate reports every problem of d as [*DefError] values joined with
// errors.Join, or nil when [NewOf] would accept d.
func (d Def[S, E]) Validate() error {
	_, err := compile(d)
	return err
}

// Diagram draws d's transition table in format f. Its output depends only on
// d. It fails when d is not valid (see [Def.Validate]) or f is unknown.
func (d Def[S, E]) Diagram(f Format) (string, error) {
	c, err := compile(d)
	if err != nil {
		return "", err
	}
	return c.diagram(f)
}

// chart is a validated Def, indexed: what a machine, its diagrams and its
// traces read. It never changes after compile.
type chart[S, E comparable] struct {
	name       string
	initial    int
	states     []S // index -> state
	stateNames []string
	stateIdx   map[S]int
	terminal   []bool
	epoch      []bool
	rules      []rule[S, E]
	index      map[edge[S, E]]int // (from, event) -> rules index
	eventName  map[E]string
	// engines keeps looplab FSMs built from this table, for the actors of
	// every machine of the definition to borrow one per transition (see
	// MachineOf.apply): a looplab FSM is about 2 KB of maps, which a machine
	// of its own would hold for its whole life.
	engines sync.Pool
}

// rule is a RuleOf with its states' indices and its names resolved.
type rule[S, E comparable] struct {
	RuleOf[S, E]
	from, to     int
	event        string
	resetAttempt bool
}

type edge[S, E comparable] struct {
	from  S
	event E
}

// compile validates d and indexes it. Every problem found is reported.
func compile[S, E comparable](d Def[S, E]) (*chart[S, E], error) {
	var errs []error
	bad := func(sentinel error, rule int, name, format string, args ...any) {
		errs = append(errs, &DefError{Err: sentinel, Rule: rule, Name: name, Detail: fmt.Sprintf(format, args...)})
	}
	c := &chart[S, E]{
		name:      d.Name,
		stateIdx:  make(map[S]int),
		index:     make(map[edge[S, E]]int, len(d.Rules)),
		eventName: make(map[E]string),
	}
	if c.name == "" {
		c.name = "machine"
	}
	if !validName(c.name) {
		bad(ErrBadName, -1, c.name, "the graph's name %q is not a letter or '_' followed by letters, digits and '_'", c.name)
	}
	stateName := func(s S) string {
		if n, ok := d.StateNames[s]; ok {
			return n
		}
		return nameOf(s)
	}
	addState := func(s S) {
		if _, ok := c.stateIdx[s]; ok {
			return
		}
		c.stateIdx[s] = len(c.states)
		c.states = append(c.states, s)
		c.stateNames = append(c.stateNames, stateName(s))
	}
	known := func(s S) bool { _, ok := c.stateIdx[s]; return ok }

	// The states.
	if d.States != nil {
		for _, s := range d.States {
			if known(s) {
				bad(ErrDuplicate, -1, stateName(s), "state %s is listed twice in States", stateName(s))
			}
			addState(s)
		}
		if !known(d.Initial) {
			bad(ErrUnknownName, -1, stateName(d.Initial), "the initial state %s is not in States", stateName(d.Initial))
		}
	} else {
		addState(d.Initial)
		for _, r := range d.Rules {
			addState(r.From)
			addState(r.To)
		}
		for _, s := range d.Terminal {
			addState(s)
		}
	}
	c.initial = c.stateIdx[d.Initial]
	c.terminal = make([]bool, len(c.states))
	c.epoch = make([]bool, len(c.states))
	names := make(map[string]bool, len(c.states))
	for _, n := range c.stateNames {
		if !validName(n) {
			bad(ErrBadName, -1, n, "state name %q is not a letter or '_' followed by letters, digits and '_': give the state a String method or a name in StateNames", n)
		} else if names[n] {
			bad(ErrDuplicate, -1, n, "two states are named %s", n)
		}
		names[n] = true
	}

	// The rules.
	resets := make(map[E]bool, len(d.ResetAttempt))
	for _, e := range d.ResetAttempt {
		resets[e] = true
	}
	eventNames := make(map[string]E)
	var zeroEvent E
	for i, r := range d.Rules {
		if r.Event == zeroEvent {
			bad(ErrBadName, i, nameOf(r.Event), "rule %d fires on the zero event, which is the initial snapshot's: number events from 1 (iota + 1)", i)
		}
		for _, s := range []S{r.From, r.To} {
			if !known(s) {
				bad(ErrUnknownName, i, stateName(s), "rule %d names state %s, which is not in States", i, stateName(s))
			}
		}
		en, ok := d.EventNames[r.Event]
		if !ok {
			en = nameOf(r.Event)
		}
		if _, seen := c.eventName[r.Event]; !seen {
			if !validName(en) {
				bad(ErrBadName, i, en, "event name %q is not a letter or '_' followed by letters, digits and '_': give the event a String method or a name in EventNames", en)
			} else if _, dup := eventNames[en]; dup {
				bad(ErrDuplicate, i, en, "two events are named %s", en)
			}
			eventNames[en] = r.Event
			c.eventName[r.Event] = en
		}
		k := edge[S, E]{r.From, r.Event}
		if j, dup := c.index[k]; dup {
			bad(ErrDuplicate, i, en, "rules %d and %d both leave %s on %s", j, i, stateName(r.From), en)
			continue
		}
		c.index[k] = len(c.rules)
		c.rules = append(c.rules, rule[S, E]{RuleOf: r, from: c.stateIdx[r.From], to: c.stateIdx[r.To],
			event: en, resetAttempt: resets[r.Event]})
	}

	// What the other fields name must exist.
	for _, s := range d.Terminal {
		if !known(s) {
			bad(ErrUnknownName, -1, stateName(s), "terminal state %s is not a state of the machine", stateName(s))
			continue
		}
		c.terminal[c.stateIdx[s]] = true
	}
	for _, s := range d.Epochs {
		if !known(s) {
			bad(ErrUnknownName, -1, stateName(s), "epoch state %s is not a state of the machine", stateName(s))
			continue
		}
		c.epoch[c.stateIdx[s]] = true
	}
	for _, e := range d.ResetAttempt {
		if _, ok := c.eventName[e]; !ok {
			bad(ErrUnknownName, -1, nameOf(e), "ResetAttempt names event %v, which no rule uses", nameOf(e))
		}
	}
	for s, n := range d.StateNames {
		if !known(s) {
			bad(ErrUnknownName, -1, n, "StateNames names %s, which is not a state of the machine", n)
		}
	}
	for e, n := range d.EventNames {
		if _, ok := c.eventName[e]; !ok {
			bad(ErrUnknownName, -1, n, "EventNames names %s, which no rule uses", n)
		}
	}

	// Terminal means terminal, and every state can be reached.
	for i, r := range c.rules {
		if c.terminal[r.from] {
			bad(ErrLeavesTerminal, i, c.stateNames[r.from], "rule %s --%s--> %s leaves a terminal state",
				c.stateNames[r.from], r.event, c.stateNames[r.to])
		}
	}
	reached := make([]bool, len(c.states))
	reached[c.initial] = true
	for grew := true; grew; {
		grew = false
		for _, r := range c.rules {
			if reached[r.from] && !reached[r.to] {
				reached[r.to], grew = true, true
			}
		}
	}
	for i, ok := range reached {
		if !ok {
			bad(ErrUnreachable, -1, c.stateNames[i], "state %s cannot be reached from %s", c.stateNames[i],
				c.stateNames[c.initial])
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// validName reports whether s is a letter or '_' followed by letters,
// digits and '_' (ASCII): an identifier every diagram format reads as one.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// next returns the rule for (from, e), or -1.
func (c *chart[S, E]) next(from S, e E) int {
	if i, ok := c.index[edge[S, E]{from, e}]; ok {
		return i
	}
	return -1
}

// allowed returns the events c allows in s, in declaration order.
func (c *chart[S, E]) allowed(s S) []E {
	var out []E
	for _, r := range c.rules {
		if r.From == s {
			out = append(out, r.Event)
		}
	}
	return out
}

// stateName names s, also when s is not one of c's states.
func (c *chart[S, E]) stateName(s S) string {
	if i, ok := c.stateIdx[s]; ok {
		return c.stateNames[i]
	}
	return nameOf(s)
}

// eventNameOf names e, also when no rule uses e.
func (c *chart[S, E]) eventNameOf(e E) string {
	if n, ok := c.eventName[e]; ok {
		return n
	}
	return nameOf(e)
}
