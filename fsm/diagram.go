package fsm

import (
	"fmt"
	"strings"
)

// Format is a diagram language.
type Format uint8

// Diagram formats.
const (
	// Mermaid is a Mermaid stateDiagram-v2.
	Mermaid Format = iota + 1
	// DOT is a Graphviz digraph.
	DOT
)

// String returns "mermaid" or "dot".
func (f Format) String() string {
	switch f {
	case Mermaid:
		return "mermaid"
	case DOT:
		return "dot"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ParseFormat turns "mermaid" or "dot" (any case) into a Format.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "mermaid":
		return Mermaid, nil
	case "dot", "graphviz":
		return DOT, nil
	}
	return 0, &FormatError{Name: s}
}

// FormatError reports an unknown diagram format.
type FormatError struct{ Name string }

func (e *FormatError) Error() string {
	return fmt.Sprintf("tether/fsm: unknown diagram format %q (want mermaid or dot)", e.Name)
}

// Diagram draws the lifecycle's transition table in format f. It reads the
// table, never a live machine, and its output is the same on every call.
func Diagram(f Format) (string, error) { return lifecycle.diagram(f) }

// Diagram draws the machine's transition table in format f. It reads the
// table, never the live state, and its output is the same on every call.
func (m *MachineOf[S, E]) Diagram(f Format) (string, error) { return m.c.diagram(f) }

func (c *chart[S, E]) diagram(f Format) (string, error) {
	switch f {
	case Mermaid:
		return c.mermaid(), nil
	case DOT:
		return c.dot(), nil
	}
	return "", &FormatError{Name: f.String()}
}

func (c *chart[S, E]) mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "    [*] --> %s\n", c.stateNames[c.initial])
	for _, r := range c.rules {
		fmt.Fprintf(&b, "    %s --> %s: %s\n", c.stateNames[r.from], c.stateNames[r.to], r.event)
	}
	for i, n := range c.stateNames {
		if c.terminal[i] {
			fmt.Fprintf(&b, "    %s --> [*]\n", n)
		}
	}
	return b.String()
}

func (c *chart[S, E]) dot() string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", c.name)
	b.WriteString("    rankdir=LR;\n")
	b.WriteString("    node [shape=box, style=rounded];\n")
	b.WriteString("    start [shape=point];\n")
	for i, n := range c.stateNames {
		if c.terminal[i] {
			fmt.Fprintf(&b, "    %q [peripheries=2];\n", n)
		}
	}
	fmt.Fprintf(&b, "    start -> %q;\n", c.stateNames[c.initial])
	for _, r := range c.rules {
		fmt.Fprintf(&b, "    %q -> %q [label=%q];\n", c.stateNames[r.from], c.stateNames[r.to], r.event)
	}
	b.WriteString("}\n")
	return b.String()
}
