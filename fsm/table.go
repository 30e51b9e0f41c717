package fsm

// table is the lifecycle's transition table, declared once. The Machine, the
// diagrams, the documentation and the tests all read it. Order matters only
// for output: diagrams and docs list rows in this order.
var table = []Rule{
	{From: Idle, Event: EventConnect, To: Connecting, Meaning: "Connect was called (or auto-connect ran): the first dial starts."},
	{From: Idle, Event: EventClose, To: Closed, Meaning: "Closed before it was ever started."},
	{From: Connecting, Event: EventDialed, To: Open, Meaning: "The dial and handshake succeeded."},
	{From: Connecting, Event: EventDialFailed, To: Waiting, Meaning: "The dial or handshake failed; the reconnect policy is asked for a delay."},
	{From: Connecting, Event: EventClose, To: Closed, Meaning: "Closed mid-dial: the dial is abandoned and a half-made connection is closed."},
	{From: Connecting, Event: EventDisconnect, To: Idle, Meaning: "Disconnected mid-dial: the dial is abandoned; the client waits for Connect."},
	{From: Open, Event: EventDropped, To: Waiting, Meaning: "The connection ended: read or write error, or a close frame from the server."},
	{From: Open, Event: EventHeartbeatTimeout, To: Waiting, Meaning: "Nothing arrived within the pong timeout: dropped as a failure, so the policy runs."},
	{From: Open, Event: EventClose, To: Closing, Meaning: "Close was called: the close handshake starts."},
	{From: Open, Event: EventDisconnect, To: Disconnecting, Meaning: "Disconnect was called: the close handshake starts; subscriptions and the send buffer stay."},
	{From: Closing, Event: EventClosed, To: Closed, Meaning: "The close handshake finished, or its deadline passed."},
	{From: Closing, Event: EventDropped, To: Closed, Meaning: "The connection ended while the close handshake was under way."},
	{From: Disconnecting, Event: EventClosed, To: Idle, Meaning: "The close handshake of a Disconnect finished, or its deadline passed: idle until Connect."},
	{From: Disconnecting, Event: EventDropped, To: Idle, Meaning: "The connection ended while the close handshake of a Disconnect was under way."},
	{From: Disconnecting, Event: EventClose, To: Closing, Meaning: "Closed while disconnecting: the handshake under way ends the client for good."},
	{From: Waiting, Event: EventRetry, To: Connecting, Meaning: "The reconnect delay elapsed (or Reconnect was called): the next dial starts."},
	{From: Waiting, Event: EventGiveUp, To: Closed, Meaning: "The reconnect policy said stop; the cause says why."},
	{From: Waiting, Event: EventClose, To: Closed, Meaning: "Closed during the reconnect wait: the timer is stopped."},
	{From: Waiting, Event: EventDisconnect, To: Idle, Meaning: "Disconnected during the reconnect wait: the timer is stopped; the client waits for Connect."},
}

// Lifecycle returns the definition of the connection lifecycle: the machine
// [New] runs, declared with the same [Def] a user's machine is. Every entry
// to Connecting starts a new epoch, and EventConnect resets the attempt
// number. The result is a copy: a program may extend it and run it with
// [NewOf].
func Lifecycle() Def[State, Event] {
	return Def[State, Event]{
		Name:         "lifecycle",
		Initial:      Idle,
		Rules:        Table(),
		Terminal:     []State{Closed},
		States:       States(),
		Epochs:       []State{Connecting},
		ResetAttempt: []Event{EventConnect},
	}
}

// lifecycle is the lifecycle's definition, validated once.
var lifecycle = func() *chart[State, Event] {
	c, err := compile(Lifecycle())
	if err != nil {
		panic(err) // the table above is wrong: every test fails
	}
	return c
}()

// Table returns a copy of the lifecycle's transition table, in declaration
// order.
func Table() []Rule { return append([]Rule(nil), table...) }

// Next returns the state event e leads to from s in the lifecycle, and false
// when the table forbids e in s.
func Next(s State, e Event) (State, bool) {
	if i := lifecycle.next(s, e); i >= 0 {
		return lifecycle.rules[i].To, true
	}
	return 0, false
}

// Allowed returns the events the lifecycle's table allows in s, in
// declaration order.
func Allowed(s State) []Event { return lifecycle.allowed(s) }
