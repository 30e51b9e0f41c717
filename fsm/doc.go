// Package fsm runs state machines declared as data: the connection
// lifecycle of tether, and any machine a program declares with its own
// types. It holds typed transitions, the [MachineOf] that runs a
// definition, and the diagrams and traces drawn from it.
//
// # Declaring a machine
//
// A [Def] names the states and events (the program's own comparable types:
// integers with a String method, string types, or names given in the
// definition), the initial state, the transition table as [RuleOf] rows
// (from, event, to, meaning, and an optional guard), the terminal states,
// the states whose every entry starts a new epoch, and the events that
// reset the attempt number. [NewOf] validates it and reports every problem
// as a [*DefError] (duplicates, unknown names, unreachable states, rules
// leaving a terminal state, bad names; errors.Is(err, [ErrInvalidDef])),
// then runs it. docs/machines.md is the guide, with a door as its example.
//
// The connection lifecycle is one such definition ([Lifecycle]). [New]
// runs it through the same code as NewOf, and the lifecycle's names are
// the generic ones instantiated with [State] and [Event]: [Machine],
// [Transition], [Input], [Hook], [Rule], [Subscription], [ForbiddenError].
// [Table] returns its rules; docs/lifecycle.md is generated from them and a
// test fails when it is stale. [Closed] is terminal.
//
// # The machine
//
// A [MachineOf] runs its transitions through looplab/fsm behind a single
// actor: one goroutine at a time applies inputs, one after another. The
// looplab FSMs are built once per definition and lent to the actors of its
// machines, one per transition, set to the machine's state (an FSM of its
// own would cost every machine about 2 KB for its whole life). Any goroutine may
// [MachineOf.Fire] an [InputOf]; when no input is being applied, the caller
// becomes the actor for as long as there is work, otherwise its input is
// queued for the actor. Each input yields the [TransitionOf] it made: from,
// to, event, cause, attempt, close code, label, epoch and time (read from
// the clock). An idle machine costs no goroutine. The looplab FSM is never
// handed a cancellable context and has no callbacks, so none of its known
// deadlocks and wedges can happen here.
//
// An input the table does not allow in the current state is refused with a
// [*ForbiddenErrorOf], one whose epoch is not the machine's with
// [ErrStale], and one the rule's guard refuses with a [*RefusedErrorOf]
// that wraps the guard's error; none of them changes anything.
//
// Adapters and programs attach a [HookOf], which runs on the actor after
// each transition and may return one follow-up input. Follow-ups are queued
// and fired after the hooks return, never from inside the FSM.
//
// # Observing
//
// [MachineOf.State] and [MachineOf.Last] are snapshots;
// [MachineOf.WaitFor] waits for the machine to be in one of some states,
// and [MachineOf.WaitForStateChange] for the state to leave a given one,
// as in gRPC. [MachineOf.Subscribe] and [MachineOf.Transitions] deliver
// every transition, in the same order to every subscriber, starting with
// the current one. [Def.Diagram] and [MachineOf.Diagram] draw the table as
// Mermaid or Graphviz DOT; [MachineOf.TraceMermaid] draws a recorded slice
// of transitions as a Mermaid sequence diagram and [MachineOf.TraceDOT] as
// a Graphviz digraph ([TraceMermaid] and [TraceDOT] for the lifecycle);
// causes are shown whole up to [MaxTraceCause] bytes and escaped for each
// format.
//
// # Dependencies
//
// This package imports nothing of tether's but the clock: it knows no
// transport, policy or adapter.
package fsm
