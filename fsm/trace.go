package fsm

import (
	"fmt"
	"strings"
	"time"
)

// TraceMermaid draws what really happened: a Mermaid sequence diagram with
// one lifeline per state and one arrow per recorded transition, labelled with
// its number, event, time since the first transition, and its attempt,
// transport, close code and cause when set. Snapshots (Seq 0) are skipped.
// The output depends only on trace.
func TraceMermaid(trace []Transition) string {
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	for _, s := range States() {
		fmt.Fprintf(&b, "    participant %s\n", s)
	}
	var start time.Time
	for _, t := range trace {
		if t.Seq == 0 {
			continue
		}
		if start.IsZero() {
			start = t.Time
		}
		fmt.Fprintf(&b, "    %s->>%s: %s\n", t.From, t.To, traceLabel(t, t.Time.Sub(start)))
	}
	return b.String()
}

func traceLabel(t Transition, at time.Duration) string {
	parts := []string{fmt.Sprintf("%d. %s at +%s", t.Seq, t.Event, at.Round(time.Millisecond))}
	if t.Attempt > 0 {
		parts = append(parts, fmt.Sprintf("attempt %d", t.Attempt))
	}
	if t.Transport != "" {
		parts = append(parts, t.Transport)
	}
	if t.CloseCode != 0 {
		parts = append(parts, fmt.Sprintf("code %d", t.CloseCode))
	}
	if t.Cause != nil {
		parts = append(parts, mermaidSafe(t.Cause.Error(), 80))
	}
	return strings.Join(parts, ", ")
}

// mermaidSafe keeps text from breaking a Mermaid message line: it drops line
// breaks and the characters Mermaid treats as syntax, and bounds the length,
// so a server's text can never take over the diagram.
func mermaidSafe(s string, limit int) string {
	r := strings.NewReplacer("\n", " ", "\r", " ", ";", ",", "#", "", "%", "pct", "<", "(", ">", ")", `"`, "'", "{", "(", "}", ")")
	s = r.Replace(s)
	if len([]rune(s)) > limit {
		s = string([]rune(s)[:limit]) + "..."
	}
	return s
}
