package tether

import (
	"errors"
	"strings"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// Diagram draws this client's lifecycle table in format f (fsm.Mermaid or
// fsm.DOT): fsm.Diagram's, with the application stages (WithStage) in it.
func (c *Client[T]) Diagram(f fsm.Format) (string, error) { return c.m.Diagram(f) }

// Lifecycle returns the definition of the machine this client runs:
// fsm.LifecycleWith its stages (fsm.Lifecycle without any). The result is
// a copy, for tools that draw or check the table (the inspector does).
func (c *Client[T]) Lifecycle() fsm.Def[fsm.State, fsm.Event] {
	return fsm.LifecycleWith(stageStates(c.cfg.stages)...)
}

// TraceMermaid draws the recorded transitions as a Mermaid sequence
// diagram: what really happened to this connection. Each cause is shown
// whole up to fsm.MaxTraceCause bytes, with every URL in it redacted
// (transport.RedactURL), and escaped for Mermaid; see fsm.TraceMermaid.
func (c *Client[T]) TraceMermaid() string { return c.m.TraceMermaid(c.diagramTrace()) }

// TraceDOT draws the recorded transitions as a Graphviz digraph, the same
// content as TraceMermaid: one edge per transition, in order, with causes
// whole up to fsm.MaxTraceCause bytes, redacted and escaped for DOT; see
// fsm.TraceDOT.
func (c *Client[T]) TraceDOT() string { return c.m.TraceDOT(c.diagramTrace()) }

// diagramTrace is the trace with every URL in a cause redacted. The causes
// the client makes are redacted where they are made; this also covers the
// text of errors from elsewhere (a custom transport, a provider).
func (c *Client[T]) diagramTrace() []fsm.Transition {
	trace := c.Trace()
	for i, t := range trace {
		if t.Cause != nil {
			trace[i].Cause = errors.New(redactURLs(t.Cause.Error()))
		}
	}
	return trace
}

// redactURLs passes every URL in s ("scheme://" and what follows up to a
// space, a quote or an angle bracket) through transport.RedactURL. An
// unescaped space inside a URL ends it there, as it does for a reader.
func redactURLs(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		start := i
		for start > 0 && schemeByte(s[start-1]) {
			start--
		}
		for start < i && !isLetter(s[start]) { // a scheme starts with a letter
			start++
		}
		end := i + len("://")
		for end < len(s) && !strings.ContainsRune(" \t\r\n\"'`<>", rune(s[end])) {
			end++
		}
		b.WriteString(s[:start])
		b.WriteString(transport.RedactURL(s[start:end]))
		s = s[end:]
	}
}

// schemeByte reports whether c may be part of a URL scheme (RFC 3986).
func schemeByte(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
