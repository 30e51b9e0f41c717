package fsm

// Rule is one row of the transition table: in state From, event Event moves
// the machine to state To. Meaning says what the row stands for, in words the
// documentation prints.
type Rule struct {
	From    State
	Event   Event
	To      State
	Meaning string
}

// table is the lifecycle, declared once. The Machine, the diagrams, the
// documentation and the tests all read it. Order matters only for output:
// diagrams and docs list rows in this order.
var table = []Rule{
	{Idle, EventConnect, Connecting, "Connect was called (or auto-connect ran): the first dial starts."},
	{Idle, EventClose, Closed, "Closed before it was ever started."},
	{Connecting, EventDialed, Open, "The dial and handshake succeeded."},
	{Connecting, EventDialFailed, Waiting, "The dial or handshake failed; the reconnect policy is asked for a delay."},
	{Connecting, EventClose, Closed, "Closed mid-dial: the dial is abandoned and a half-made connection is closed."},
	{Connecting, EventDisconnect, Idle, "Disconnected mid-dial: the dial is abandoned; the client waits for Connect."},
	{Open, EventDropped, Waiting, "The connection ended: read or write error, or a close frame from the server."},
	{Open, EventHeartbeatTimeout, Waiting, "Nothing arrived within the pong timeout: dropped as a failure, so the policy runs."},
	{Open, EventClose, Closing, "Close was called: the close handshake starts."},
	{Open, EventDisconnect, Disconnecting, "Disconnect was called: the close handshake starts; subscriptions and the send buffer stay."},
	{Closing, EventClosed, Closed, "The close handshake finished, or its deadline passed."},
	{Closing, EventDropped, Closed, "The connection ended while the close handshake was under way."},
	{Disconnecting, EventClosed, Idle, "The close handshake of a Disconnect finished, or its deadline passed: idle until Connect."},
	{Disconnecting, EventDropped, Idle, "The connection ended while the close handshake of a Disconnect was under way."},
	{Disconnecting, EventClose, Closing, "Closed while disconnecting: the handshake under way ends the client for good."},
	{Waiting, EventRetry, Connecting, "The reconnect delay elapsed (or Reconnect was called): the next dial starts."},
	{Waiting, EventGiveUp, Closed, "The reconnect policy said stop; the cause says why."},
	{Waiting, EventClose, Closed, "Closed during the reconnect wait: the timer is stopped."},
	{Waiting, EventDisconnect, Idle, "Disconnected during the reconnect wait: the timer is stopped; the client waits for Connect."},
}

type edge struct {
	from  State
	event Event
}

// index maps (from, event) to the destination; built once from table.
var index = func() map[edge]State {
	m := make(map[edge]State, len(table))
	for _, r := range table {
		k := edge{r.From, r.Event}
		if _, dup := m[k]; dup {
			panic("fsm: duplicate rule " + r.From.String() + " --" + r.Event.String() + "-->")
		}
		m[k] = r.To
	}
	return m
}()

// Table returns a copy of the transition table, in declaration order.
func Table() []Rule { return append([]Rule(nil), table...) }

// Next returns the state event e leads to from s, and false when the table
// forbids e in s.
func Next(s State, e Event) (State, bool) {
	to, ok := index[edge{s, e}]
	return to, ok
}

// Allowed returns the events the table allows in s, in declaration order.
func Allowed(s State) []Event {
	var out []Event
	for _, r := range table {
		if r.From == s {
			out = append(out, r.Event)
		}
	}
	return out
}
