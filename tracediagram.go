package tether

import (
	"errors"

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
			trace[i].Cause = errors.New(transport.RedactURLs(t.Cause.Error()))
		}
	}
	return trace
}
