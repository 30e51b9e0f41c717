package fsm_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	looplab "github.com/looplab/fsm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
)

func TestDiagramsAreDeterministicAndCoverTheTable(t *testing.T) {
	for _, f := range []fsm.Format{fsm.Mermaid, fsm.DOT} {
		a, err := fsm.Diagram(f)
		require.NoError(t, err)
		for range 20 {
			b, err := fsm.Diagram(f)
			require.NoError(t, err)
			require.Equal(t, a, b, "%s output must not vary", f)
		}
		for _, r := range fsm.Table() {
			var edge string
			if f == fsm.Mermaid {
				edge = fmt.Sprintf("%s --> %s: %s\n", r.From, r.To, r.Event)
			} else {
				edge = fmt.Sprintf("%q -> %q [label=%q];\n", r.From.String(), r.To.String(), r.Event.String())
			}
			assert.Contains(t, a, edge, "%s lacks a rule", f)
		}
	}
}

func TestMermaidShape(t *testing.T) {
	m, err := fsm.Diagram(fsm.Mermaid)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(m), "\n")
	assert.Equal(t, "stateDiagram-v2", lines[0])
	assert.Equal(t, "    [*] --> Idle", lines[1])
	assert.Equal(t, "    Closed --> [*]", lines[len(lines)-1])
	assert.Len(t, lines, len(fsm.Table())+3)
}

// TestTableMatchesLooplab checks that the looplab FSM built from the table
// has exactly the table's edges, read back through looplab's own Graphviz
// visualiser on a template FSM.
func TestTableMatchesLooplab(t *testing.T) {
	var descs []looplab.EventDesc
	for _, r := range fsm.Table() {
		descs = append(descs, looplab.EventDesc{Name: r.Event.String(), Src: []string{r.From.String()}, Dst: r.To.String()})
	}
	out := looplab.Visualize(looplab.NewFSM(fsm.Idle.String(), descs, nil))
	re := regexp.MustCompile(`"(\w+)" -> "(\w+)" \[ label = "(\w+)" \]`)
	var got []string
	for _, mm := range re.FindAllStringSubmatch(out, -1) {
		got = append(got, mm[1]+" "+mm[3]+" "+mm[2])
	}
	var want []string
	for _, r := range fsm.Table() {
		want = append(want, r.From.String()+" "+r.Event.String()+" "+r.To.String())
	}
	sort.Strings(got)
	sort.Strings(want)
	assert.Equal(t, want, got)
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]fsm.Format{"mermaid": fsm.Mermaid, "DOT": fsm.DOT, "graphviz": fsm.DOT} {
		got, err := fsm.ParseFormat(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := fsm.ParseFormat("svg")
	var fe *fsm.FormatError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "svg", fe.Name)
	_, err = fsm.Diagram(fsm.Format(9))
	require.ErrorAs(t, err, &fe)
}
