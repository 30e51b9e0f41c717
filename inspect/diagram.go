package inspect

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tether-go/tether/fsm"
)

// Layout of the diagram, in SVG units.
const (
	boxW   = 112 // a state's box
	boxH   = 34
	gap    = 168 // between the centres of two neighbouring states
	rise   = 34  // height an arc gains per state it spans
	margin = 24
)

// maxDiagrams bounds the cache of drawn diagrams: a program with more
// distinct tables than this gets the others drawn again on each use.
const maxDiagrams = 64

// diagrams caches the drawn diagrams by table (see tableKey).
var diagrams = struct {
	mu sync.Mutex
	m  map[string]string
}{m: map[string]string{}}

var plain = sync.OnceValue(func() string {
	svg, err := DiagramOf(fsm.Lifecycle())
	if err != nil {
		panic(err) // fsm.Lifecycle is valid: every test fails otherwise
	}
	return svg
})

// Diagram returns the plain lifecycle (fsm.Lifecycle, without stages) as an
// SVG image: DiagramOf(fsm.Lifecycle()). A client with stages
// (tether.WithStage) runs another table, which DiagramOf(c.Lifecycle())
// draws; the page shows each client its own. The output depends only on
// the table.
func Diagram() string { return plain() }

// DiagramOf returns the lifecycle d as an SVG image, drawn from its
// transition table: the states in a row in the order of d.States, each
// transition an arc (forward ones above the row, backward ones below)
// labelled with its events. Each state is a <g class="state"
// data-state="Open">, each arc a <g class="edge" data-from="Open"
// data-to="Waiting" data-events="dropped heartbeat_timeout">, so the page
// can highlight them. States and events are named by their String method,
// as transitions name them; d's StateNames and EventNames are not read.
// Application stages (fsm.DefineStage) are states like the others, marked
// with the class "stage": with fsm.LifecycleWith(Authenticating), the row
// reads Idle, Connecting, Authenticating, Open, ... The output depends only on d's states, rules
// and terminal states, and is cached per distinct table. It fails when d
// is not valid (fsm.Def.Validate says why).
func DiagramOf(d fsm.Def[fsm.State, fsm.Event]) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	states := d.States
	if states == nil {
		states = statesOf(d)
	}
	key := tableKey(states, d.Rules, d.Terminal)
	diagrams.mu.Lock()
	svg, ok := diagrams.m[key]
	diagrams.mu.Unlock()
	if ok {
		return svg, nil
	}
	svg = drawDiagram(states, d.Rules, d.Terminal)
	diagrams.mu.Lock()
	if len(diagrams.m) < maxDiagrams {
		diagrams.m[key] = svg
	}
	diagrams.mu.Unlock()
	return svg, nil
}

// statesOf lists d's states when d.States is nil, as fsm does: Initial,
// then those the rules name and the terminal ones, in the order they first
// appear.
func statesOf(d fsm.Def[fsm.State, fsm.Event]) []fsm.State {
	var out []fsm.State
	add := func(s fsm.State) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(d.Initial)
	for _, r := range d.Rules {
		add(r.From)
		add(r.To)
	}
	for _, s := range d.Terminal {
		add(s)
	}
	return out
}

// tableKey is what a diagram is drawn from, as text: two tables with the
// same key draw the same diagram.
func tableKey(states []fsm.State, rules []fsm.Rule, terminal []fsm.State) string {
	var b strings.Builder
	for _, s := range states {
		b.WriteString(s.String())
		if slices.Contains(terminal, s) {
			b.WriteByte('!')
		}
		b.WriteByte(',')
	}
	b.WriteByte('|')
	for _, r := range rules {
		fmt.Fprintf(&b, "%s>%s>%s,", r.From, r.Event, r.To)
	}
	return b.String()
}

// diagramID names a table's diagram for the page: the same table, the same
// ID, in any process.
func diagramID(svg string) string {
	h := fnv.New64a()
	h.Write([]byte(svg))
	return strconv.FormatUint(h.Sum64(), 36)
}

// arc is the transitions from one state to another, drawn as one arc.
type arc struct {
	from, to fsm.State
	events   []string
}

func drawDiagram(states []fsm.State, rules []fsm.Rule, terminal []fsm.State) string {
	pos := make(map[fsm.State]int, len(states))
	for i, s := range states {
		pos[s] = i
	}
	var arcs []*arc
	byPair := map[[2]fsm.State]*arc{}
	for _, r := range rules {
		k := [2]fsm.State{r.From, r.To}
		a := byPair[k]
		if a == nil {
			a = &arc{from: r.From, to: r.To}
			byPair[k] = a
			arcs = append(arcs, a)
		}
		a.events = append(a.events, r.Event.String())
	}
	up, down := 1, 1 // the longest span above and below, in states
	for _, a := range arcs {
		span := pos[a.to] - pos[a.from]
		if span > 0 {
			up = max(up, span)
		} else {
			down = max(down, -span)
		}
	}
	top := margin + up*rise*3/4 + 14
	width := 2*margin + (len(states)-1)*gap + boxW
	height := top + boxH + down*rise*3/4 + 14 + margin
	cx := func(s fsm.State) int { return margin + boxW/2 + pos[s]*gap }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle" viewBox="0 0 %d %d" role="img" aria-label="lifecycle state diagram">`, width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>`)
	for _, a := range arcs {
		x1, x2 := cx(a.from), cx(a.to)
		span := pos[a.to] - pos[a.from]
		var path string
		var lx, ly int
		switch {
		case span > 0: // above the row
			y := top
			h := span * rise
			x1, x2 = x1+12, x2-12
			path = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y, x1, y-h, x2, y-h, x2, y)
			lx, ly = (x1+x2)/2, y-h*3/4-5
		case span < 0: // below the row
			y := top + boxH
			h := -span * rise
			x1, x2 = x1-12, x2+12
			path = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y, x1, y+h, x2, y+h, x2, y)
			lx, ly = (x1+x2)/2, y+h*3/4+14
		default: // a loop on its own state
			y := top
			path = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1-10, y, x1-30, y-rise, x1+30, y-rise, x1+10, y)
			lx, ly = x1, y-rise-5
		}
		fmt.Fprintf(&b, `<g class="edge" data-from="%s" data-to="%s" data-events="%s"><path d="%s" marker-end="url(#arrow)"/><text x="%d" y="%d">%s</text></g>`,
			xmlEscape(a.from.String()), xmlEscape(a.to.String()), xmlEscape(strings.Join(a.events, " ")), path, lx, ly,
			xmlEscape(strings.Join(a.events, " / ")))
	}
	for _, s := range states {
		x := cx(s) - boxW/2
		class := "state"
		if slices.Contains(terminal, s) {
			class += " terminal"
		}
		if s.IsStage() {
			class += " stage"
		}
		fmt.Fprintf(&b, `<g class="%s" data-state="%s"><rect x="%d" y="%d" width="%d" height="%d" rx="8"/><text x="%d" y="%d">%s</text></g>`,
			class, xmlEscape(s.String()), x, top, boxW, boxH, cx(s), top+boxH/2+5, xmlEscape(s.String()))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
