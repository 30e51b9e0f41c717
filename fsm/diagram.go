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

// Diagram draws the transition table in format f. It reads the table, never
// a live machine, and its output is the same on every call.
func Diagram(f Format) (string, error) {
	switch f {
	case Mermaid:
		return mermaid(), nil
	case DOT:
		return dot(), nil
	}
	return "", &FormatError{Name: f.String()}
}

func mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "    [*] --> %s\n", Idle)
	for _, r := range table {
		fmt.Fprintf(&b, "    %s --> %s: %s\n", r.From, r.To, r.Event)
	}
	for _, s := range States() {
		if s.Terminal() {
			fmt.Fprintf(&b, "    %s --> [*]\n", s)
		}
	}
	return b.String()
}

func dot() string {
	var b strings.Builder
	b.WriteString("digraph lifecycle {\n")
	b.WriteString("    rankdir=LR;\n")
	b.WriteString("    node [shape=box, style=rounded];\n")
	b.WriteString("    start [shape=point];\n")
	for _, s := range States() {
		if s.Terminal() {
			fmt.Fprintf(&b, "    %q [peripheries=2];\n", s.String())
		}
	}
	fmt.Fprintf(&b, "    start -> %q;\n", Idle.String())
	for _, r := range table {
		fmt.Fprintf(&b, "    %q -> %q [label=%q];\n", r.From.String(), r.To.String(), r.Event.String())
	}
	b.WriteString("}\n")
	return b.String()
}
