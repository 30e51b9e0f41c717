package inspect

import (
	"fmt"
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

var diagram = sync.OnceValue(func() string { return drawDiagram(fsm.States(), fsm.Table()) })

// Diagram returns the lifecycle as an SVG image, drawn from the transition
// table: the states in a row in declaration order, each transition an arc
// (forward ones above the row, backward ones below) labelled with its
// events. Each state is a <g class="state" data-state="Open">, each arc a
// <g class="edge" data-from="Open" data-to="Waiting" data-events="dropped
// heartbeat_timeout">, so the page can highlight them. The output depends
// only on the table.
func Diagram() string { return diagram() }

// arc is the transitions from one state to another, drawn as one arc.
type arc struct {
	from, to fsm.State
	events   []string
}

func drawDiagram(states []fsm.State, rules []fsm.Rule) string {
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
		if s.Terminal() {
			class += " terminal"
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
