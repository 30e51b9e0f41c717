package fsm_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/tether-go/tether/fsm"
)

type (
	pState uint8
	pEvent uint8
)

func (s pState) String() string { return "s" + strconv.Itoa(int(s)) }
func (e pEvent) String() string { return "e" + strconv.Itoa(int(e)) }

// guardCode is the close code a guarded rule refuses.
const guardCode = 13

var errGuard = errors.New("guard says no")

// randomDef draws a valid table over n states and k events: a spanning
// tree from s0 makes every state reachable, then random rules, random
// guards, terminal states among those no rule leaves, epoch states and
// attempt resets.
func randomDef(t *rapid.T) (fsm.Def[pState, pEvent], map[[2]uint8]int) {
	n := rapid.IntRange(1, 6).Draw(t, "states")
	k := rapid.IntRange(1, 5).Draw(t, "events")
	var def fsm.Def[pState, pEvent]
	def.Name = "random"
	for s := range n {
		def.States = append(def.States, pState(s))
	}
	index := map[[2]uint8]int{}
	add := func(from, to pState, e pEvent) {
		key := [2]uint8{uint8(from), uint8(e)}
		if _, dup := index[key]; dup {
			return
		}
		var guard func(fsm.TransitionOf[pState, pEvent]) error
		if rapid.Bool().Draw(t, "guarded") {
			guard = func(tr fsm.TransitionOf[pState, pEvent]) error {
				if tr.CloseCode == guardCode {
					return errGuard
				}
				return nil
			}
		}
		index[key] = len(def.Rules)
		def.Rules = append(def.Rules, fsm.RuleOf[pState, pEvent]{From: from, Event: e, To: to, Guard: guard})
	}
	for s := 1; s < n; s++ {
		from := pState(rapid.IntRange(0, s-1).Draw(t, "parent"))
		e := pEvent(rapid.IntRange(1, k).Draw(t, "tree event"))
		if _, used := index[[2]uint8{uint8(from), uint8(e)}]; used {
			// Find a free event of from, or hang s below s-1's free one.
			for e = 1; e <= pEvent(k); e++ {
				if _, used := index[[2]uint8{uint8(from), uint8(e)}]; !used {
					break
				}
			}
			if e > pEvent(k) {
				k++ // one more event keeps the tree possible
				e = pEvent(k)
			}
		}
		add(from, pState(s), e)
	}
	extra := rapid.IntRange(0, n*k).Draw(t, "extra rules")
	for range extra {
		add(pState(rapid.IntRange(0, n-1).Draw(t, "from")), pState(rapid.IntRange(0, n-1).Draw(t, "to")),
			pEvent(rapid.IntRange(1, k).Draw(t, "event")))
	}
	for _, s := range def.States {
		leaves := false
		for _, r := range def.Rules {
			leaves = leaves || r.From == s
		}
		if !leaves && rapid.Bool().Draw(t, "terminal") {
			def.Terminal = append(def.Terminal, s)
		}
		if rapid.Bool().Draw(t, "epoch") {
			def.Epochs = append(def.Epochs, s)
		}
	}
	for e := pEvent(1); e <= pEvent(k); e++ {
		used := false
		for _, r := range def.Rules {
			used = used || r.Event == e
		}
		if used && rapid.Bool().Draw(t, "reset") {
			def.ResetAttempt = append(def.ResetAttempt, e)
		}
	}
	return def, index
}

// model is what the machine should do, written plainly.
type model struct {
	def       fsm.Def[pState, pEvent]
	index     map[[2]uint8]int
	state     pState
	seq       uint64
	attempt   int
	transport string
	epoch     uint64
	follow    map[pState]pEvent // the hook's follow-up on entering a state
	budget    int               // follow-ups the hook may still ask for
	rejected  int
	trace     []fsm.TransitionOf[pState, pEvent]
}

// apply mirrors MachineOf.apply; it returns the error's sentinel.
func (m *model) apply(in fsm.InputOf[pEvent]) (fsm.TransitionOf[pState, pEvent], error) {
	i, ok := m.index[[2]uint8{uint8(m.state), uint8(in.Event)}]
	if !ok {
		return fsm.TransitionOf[pState, pEvent]{}, fsm.ErrForbidden
	}
	if in.Epoch != 0 && in.Epoch != m.epoch {
		return fsm.TransitionOf[pState, pEvent]{}, fsm.ErrStale
	}
	r := m.def.Rules[i]
	if r.Guard != nil && in.CloseCode == guardCode {
		return fsm.TransitionOf[pState, pEvent]{}, fsm.ErrRefused
	}
	attempt := m.attempt
	if in.Attempt != 0 {
		attempt = in.Attempt
	}
	for _, e := range m.def.ResetAttempt {
		if e == in.Event {
			attempt = 0
		}
	}
	if in.Transport != "" {
		m.transport = in.Transport
	}
	for _, s := range m.def.Epochs {
		if s == r.To {
			m.epoch++
		}
	}
	m.seq++
	m.attempt, m.state = attempt, r.To
	tr := fsm.TransitionOf[pState, pEvent]{Seq: m.seq, From: r.From, To: r.To, Event: in.Event, Cause: in.Cause,
		Attempt: attempt, CloseCode: in.CloseCode, Transport: m.transport, Epoch: m.epoch}
	m.trace = append(m.trace, tr)
	return tr, nil
}

// fire applies in, then the hook's follow-ups, as the machine's actor does.
func (m *model) fire(in fsm.InputOf[pEvent]) (fsm.TransitionOf[pState, pEvent], error) {
	tr, err := m.apply(in)
	if err != nil {
		return tr, err
	}
	queue := m.hook(tr)
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		if ftr, ferr := m.apply(next); ferr != nil {
			m.rejected++
		} else {
			queue = append(queue, m.hook(ftr)...)
		}
	}
	return tr, nil
}

func (m *model) hook(tr fsm.TransitionOf[pState, pEvent]) []fsm.InputOf[pEvent] {
	if e, ok := m.follow[tr.To]; ok && m.budget > 0 {
		m.budget--
		return []fsm.InputOf[pEvent]{{Event: e}}
	}
	return nil
}

// TestPropertyRandomTables runs random event sequences on random valid
// tables, with guards, epochs, attempt resets and a hook that asks for
// follow-ups, and checks every result, the snapshot and the subscribers'
// view against the model.
func TestPropertyRandomTables(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		def, index := randomDef(rt)
		k := 0
		for _, r := range def.Rules {
			k = max(k, int(r.Event))
		}
		follow := map[pState]pEvent{}
		for _, s := range def.States {
			if rapid.Bool().Draw(rt, "follows") {
				follow[s] = pEvent(rapid.IntRange(1, max(k, 1)).Draw(rt, "follow-up"))
			}
		}
		budget := rapid.IntRange(0, 10).Draw(rt, "budget")
		mod := &model{def: def, index: index, follow: follow, budget: budget}

		rejected := 0
		m, err := fsm.NewOf(def, fsm.WithRejected(func(fsm.InputOf[pEvent], error) { rejected++ }))
		if err != nil {
			rt.Fatalf("a valid table was refused: %v", err)
		}
		hookBudget := budget
		m.AddHook(func(tr fsm.TransitionOf[pState, pEvent]) (fsm.InputOf[pEvent], bool) {
			if e, ok := follow[tr.To]; ok && hookBudget > 0 {
				hookBudget--
				return fsm.InputOf[pEvent]{Event: e}, true
			}
			return fsm.InputOf[pEvent]{}, false
		})
		sub := m.Subscribe(context.Background())

		steps := rapid.IntRange(0, 40).Draw(rt, "steps")
		for range steps {
			in := fsm.InputOf[pEvent]{
				Event:     pEvent(rapid.IntRange(0, k+1).Draw(rt, "event")),
				Attempt:   rapid.IntRange(0, 3).Draw(rt, "attempt"),
				CloseCode: uint16(rapid.SampledFrom([]int{0, 1000, guardCode}).Draw(rt, "code")),
				Transport: rapid.SampledFrom([]string{"", "a", "b"}).Draw(rt, "transport"),
			}
			switch rapid.IntRange(0, 3).Draw(rt, "epoch kind") {
			case 1:
				in.Epoch = mod.epoch
			case 2:
				in.Epoch = mod.epoch + 1
			case 3:
				if mod.epoch > 1 {
					in.Epoch = mod.epoch - 1
				}
			}
			want, wantErr := mod.fire(in)
			got, err := m.Fire(context.Background(), in)
			if wantErr != nil {
				if !errors.Is(err, wantErr) {
					rt.Fatalf("%v in %s: got error %v, the model says %v", in, mod.state, err, wantErr)
				}
				if errors.Is(err, fsm.ErrRefused) && !errors.Is(err, errGuard) {
					rt.Fatalf("a refusal must wrap the guard's error: %v", err)
				}
				continue
			}
			if err != nil {
				rt.Fatalf("%v: unexpected error %v", in, err)
			}
			got.Time = time.Time{} // the model has no clock
			if got != want {
				rt.Fatalf("got %v, the model made %v", got, want)
			}
			if m.State() != mod.state {
				rt.Fatalf("state %s after follow-ups, the model is in %s", m.State(), mod.state)
			}
		}
		last := m.Last()
		if err := m.Close(); err != nil {
			rt.Fatal(err)
		}
		var seen []fsm.TransitionOf[pState, pEvent]
		for tr := range sub.C() {
			tr.Time = time.Time{} // the model has no clock
			seen = append(seen, tr)
		}
		if len(seen) != len(mod.trace)+1 {
			rt.Fatalf("the subscriber saw %d transitions, the model made %d", len(seen)-1, len(mod.trace))
		}
		for i, tr := range mod.trace {
			if seen[i+1] != tr {
				rt.Fatalf("the subscriber saw %v at %d, the model made %v", seen[i+1], i, tr)
			}
		}
		if len(mod.trace) > 0 && (last.Seq != mod.seq || last.To != mod.state) {
			rt.Fatalf("Last %v, the model is at #%d in %s", last, mod.seq, mod.state)
		}
		if rejected != mod.rejected {
			rt.Fatalf("%d follow-ups rejected, the model says %d", rejected, mod.rejected)
		}
	})
}
