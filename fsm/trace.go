package fsm

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxTraceCause is the most bytes of a cause's text that a trace shows
// ([TraceMermaid], [TraceDOT]). A longer cause is cut at the last rune
// boundary within the bound and ends with "… (N more bytes)", so a trace
// stays readable whatever an error or a server put in it. The bound
// applies to the text before escaping.
const MaxTraceCause = 512

// TraceMermaid draws what really happened: a Mermaid sequence diagram with
// one lifeline per state and one arrow per recorded transition, labelled with
// its number, event, time since the first transition, and its attempt,
// transport, close code and cause when set. Snapshots (Seq 0) are skipped.
// A trace that does not start at the first transition (a client keeps the
// latest WithTraceLimit) opens with a note saying how many came before.
// The output depends only on trace.
//
// A cause is shown whole up to [MaxTraceCause] bytes. Text is escaped for
// Mermaid: '#', ';', '%', '<', '>', '&', '"', '{' and '}' become entity
// codes ("#59;" for ';'), a line break becomes "<br/>", and other control
// characters are written as Go escapes ("\x01"), so no text can end a
// message, start a comment or directive, or inject markup. URLs are not
// redacted here (this package knows no URLs): [Transition.Cause] is shown
// as it is. The Client's TraceMermaid redacts them first.
func TraceMermaid(trace []Transition) string { return lifecycle.traceMermaid(trace) }

// TraceMermaid draws a recorded slice of the machine's transitions as
// [TraceMermaid] draws the lifecycle's: one lifeline per state of the
// machine's definition, one arrow per transition. Its output depends only
// on trace and the definition.
func (m *MachineOf[S, E]) TraceMermaid(trace []TransitionOf[S, E]) string {
	return m.c.traceMermaid(trace)
}

func (c *chart[S, E]) traceMermaid(trace []TransitionOf[S, E]) string {
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	for _, n := range c.stateNames {
		fmt.Fprintf(&b, "    participant %s\n", n)
	}
	if first, n := omitted(trace); n > 0 {
		fmt.Fprintf(&b, "    Note over %s: %d earlier transitions not kept: times count from number %d\n",
			c.stateName(first.From), n, first.Seq)
	}
	eachTraced(trace, func(t TransitionOf[S, E], at time.Duration) {
		fmt.Fprintf(&b, "    %s->>%s: %s\n", c.stateName(t.From), c.stateName(t.To), mermaidText(c.traceLabel(t, at)))
	})
	return b.String()
}

// TraceDOT draws what [TraceMermaid] draws as a Graphviz digraph: one node
// per state (terminal states with a double border) and one edge per
// recorded transition, in order, labelled as in TraceMermaid. Snapshots
// (Seq 0) are skipped. The output depends only on trace.
//
// A cause is shown whole up to [MaxTraceCause] bytes. Labels are DOT
// quoted strings: '"' and '\' are escaped, a line break becomes "\n" (so
// "\N", "\G" and the other escapes Graphviz expands cannot be formed by
// the text), and other control characters are written as Go escapes
// ("\x01"). As in TraceMermaid, URLs in causes are shown as they are; the
// Client's TraceDOT redacts them first.
func TraceDOT(trace []Transition) string { return lifecycle.traceDOT(trace) }

// TraceDOT draws what [MachineOf.TraceMermaid] draws as a Graphviz digraph,
// as [TraceDOT] does for the lifecycle.
func (m *MachineOf[S, E]) TraceDOT(trace []TransitionOf[S, E]) string { return m.c.traceDOT(trace) }

func (c *chart[S, E]) traceDOT(trace []TransitionOf[S, E]) string {
	var b strings.Builder
	b.WriteString("digraph trace {\n")
	b.WriteString("    rankdir=LR;\n")
	b.WriteString("    node [shape=box, style=rounded];\n")
	for i, n := range c.stateNames {
		if c.terminal[i] {
			fmt.Fprintf(&b, "    %s [peripheries=2];\n", dotText(n))
		} else {
			fmt.Fprintf(&b, "    %s;\n", dotText(n))
		}
	}
	eachTraced(trace, func(t TransitionOf[S, E], at time.Duration) {
		fmt.Fprintf(&b, "    %s -> %s [label=%s];\n", dotText(c.stateName(t.From)), dotText(c.stateName(t.To)),
			dotText(c.traceLabel(t, at)))
	})
	b.WriteString("}\n")
	return b.String()
}

// eachTraced calls f with every transition of trace but the snapshots, and
// its time since the first of them.
// omitted returns the first recorded transition of trace and how many
// came before it that trace does not hold.
func omitted[S, E comparable](trace []TransitionOf[S, E]) (TransitionOf[S, E], uint64) {
	for _, t := range trace {
		if t.Seq != 0 {
			return t, t.Seq - 1
		}
	}
	return TransitionOf[S, E]{}, 0
}

func eachTraced[S, E comparable](trace []TransitionOf[S, E], f func(t TransitionOf[S, E], at time.Duration)) {
	var start time.Time
	for _, t := range trace {
		if t.Seq == 0 {
			continue
		}
		if start.IsZero() {
			start = t.Time
		}
		f(t, t.Time.Sub(start))
	}
}

// traceLabel is the text of a transition's arrow, before escaping.
func (c *chart[S, E]) traceLabel(t TransitionOf[S, E], at time.Duration) string {
	parts := []string{fmt.Sprintf("%d. %s at +%s", t.Seq, c.eventNameOf(t.Event), at.Round(time.Millisecond))}
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
		parts = append(parts, boundCause(t.Cause.Error()))
	}
	return strings.Join(parts, ", ")
}

// boundCause makes s valid UTF-8 and cuts it to MaxTraceCause bytes at a
// rune boundary, with a marker that says how much was left out.
func boundCause(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxTraceCause {
		return s
	}
	cut := MaxTraceCause
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (" + strconv.Itoa(len(s)-cut) + " more bytes)"
}

// escapeText writes s with each rune either kept or replaced by what
// special returns for it (ok true). Line breaks (\r\n, \n, \r, U+2028,
// U+2029, U+0085) are replaced by newline, a tab by a space, and any other
// control character by its Go escape ("\x01"), itself passed through
// special.
func escapeText(s, newline string, special func(r rune) (string, bool)) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\r' && strings.HasPrefix(s[i:], "\n"):
			i++
			b.WriteString(newline)
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085':
			b.WriteString(newline)
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r) || r == '\uFEFF':
			q := strconv.QuoteRune(r) // '\x01'
			for _, c := range q[1 : len(q)-1] {
				writeRune(&b, c, special)
			}
		default:
			writeRune(&b, r, special)
		}
	}
	return b.String()
}

// writeRune writes r, or what special replaces it with.
func writeRune(b *strings.Builder, r rune, special func(r rune) (string, bool)) {
	if rep, ok := special(r); ok {
		b.WriteString(rep)
		return
	}
	b.WriteRune(r)
}

// mermaidText escapes s for the text of a Mermaid message: characters
// Mermaid treats as syntax become its entity codes ("#59;").
func mermaidText(s string) string {
	return escapeText(s, "<br/>", func(r rune) (string, bool) {
		switch r {
		case '#', ';', '%', '<', '>', '&', '"', '{', '}', '`', '\\':
			return "#" + strconv.Itoa(int(r)) + ";", true
		}
		return "", false
	})
}

// dotText quotes s as a DOT string: '"' and '\' are escaped, so the text
// can neither end the string nor form one of Graphviz's label escapes.
func dotText(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	b.WriteString(escapeText(s, `\n`, func(r rune) (string, bool) {
		switch r {
		case '"':
			return `\"`, true
		case '\\':
			return `\\`, true
		}
		return "", false
	}))
	b.WriteByte('"')
	return b.String()
}
