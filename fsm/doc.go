// Package fsm is the connection lifecycle of tether: typed states and events,
// the transition table declared once as data, the Machine that runs it, and
// the diagrams drawn from it.
//
// # The table
//
// [Table] returns the rules (from, event, to). Everything reads them: the
// [Machine] refuses an event the table does not allow with a
// [*ForbiddenError] and changes nothing; [Diagram] draws Mermaid and Graphviz
// DOT from them; docs/lifecycle.md is generated from them and a test fails
// when it is stale. [Closed] is terminal.
//
// # The machine
//
// A [Machine] owns a looplab/fsm FSM behind a single actor: one goroutine
// at a time applies inputs, one after another. Any goroutine may
// [Machine.Fire] an [Input]; when no input is being applied, the caller
// becomes the actor for as long as there is work, otherwise its input is
// queued for the actor. Each input yields the [Transition] it made: from,
// to, event, cause, attempt, close code, transport, epoch and time (read
// from the clock). An idle machine costs no goroutine. The looplab FSM is
// never handed a cancellable context and has no callbacks, so none of its
// known deadlocks and wedges can happen here.
//
// Adapters attach a [Hook], which runs on the actor after each transition and
// may return one follow-up input. Follow-ups are queued and fired after the
// hooks return, never from inside the FSM.
//
// # Observing
//
// [Machine.State] and [Machine.Last] are snapshots; [Machine.WaitForStateChange]
// waits for the state to leave a given one, as in gRPC. [Machine.Subscribe]
// and [Machine.Transitions] deliver every transition, in the same order to
// every subscriber, starting with the current one. [TraceMermaid] draws a
// recorded slice of transitions as a Mermaid sequence diagram, [TraceDOT]
// as a Graphviz digraph; causes are shown whole up to [MaxTraceCause]
// bytes and escaped for each format.
//
// # Dependencies
//
// This package imports nothing of tether's but the clock: it knows no
// transport, policy or adapter.
package fsm
