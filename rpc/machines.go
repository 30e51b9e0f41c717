package rpc

import "github.com/tether-go/tether/fsm"

// RequestState is a state of a request's machine.
type RequestState uint8

// The states of a request. Pending is the only one that is not terminal.
const (
	// Pending: sent (or waiting in the send buffer for a connection), no
	// reply yet.
	Pending RequestState = iota
	// Replied: the reply came, with a result or an error object.
	Replied
	// Malformed: a reply came that cannot be used.
	Malformed
	// TimedOut: no reply within the timeout.
	TimedOut
	// Lost: the connection ended after the request was written (or
	// handed to it while it was open), or a write of it failed with the
	// connection failing mid-way, before its reply: the server may have
	// run it.
	Lost
	// Cancelled: the request's ctx ended first.
	Cancelled
	// Unsent: the request was never written: the tether client refused
	// it before writing any of it (closed, encoding, its buffer's policy),
	// or closed with it still in its send buffer.
	Unsent
)

// String returns the state's name, as diagrams show it.
func (s RequestState) String() string {
	return [...]string{"Pending", "Replied", "Malformed", "TimedOut", "Lost", "Cancelled", "Unsent"}[s]
}

// RequestEvent is an event of a request's machine.
type RequestEvent uint8

// The events of a request. Zero is left unused (the snapshot's event).
const (
	_ RequestEvent = iota
	// EventReply: a reply with the request's id came.
	EventReply
	// EventBadReply: a reply with the request's id came, unusable.
	EventBadReply
	// EventTimeout: the timeout ran out.
	EventTimeout
	// EventLost: the request's connection ended, or its write failed
	// mid-way.
	EventLost
	// EventRetry: the request's connection ended and the request is
	// idempotent: it is sent again on the next connection.
	EventRetry
	// EventCancel: the request's ctx ended.
	EventCancel
	// EventSendFailed: Send refused the request before writing any of it.
	EventSendFailed
)

// String returns the event's name, as diagrams and traces show it.
func (e RequestEvent) String() string {
	return [...]string{"none", "reply", "bad_reply", "timeout", "lost", "retry", "cancel", "send_failed"}[e]
}

// RequestTransition is one transition of a request's machine. Its
// Transport label is the request's method and id ("sum id 7"), its Attempt
// the number of times it was sent again, and its Cause the error that
// ended it.
type RequestTransition = fsm.TransitionOf[RequestState, RequestEvent]

// RequestDef is the definition of a request's machine: the table every
// request runs, drawn in docs/rpc-machines.md.
func RequestDef() fsm.Def[RequestState, RequestEvent] {
	return fsm.Def[RequestState, RequestEvent]{
		Name:    "request",
		Initial: Pending,
		Rules: []fsm.RuleOf[RequestState, RequestEvent]{
			{From: Pending, Event: EventReply, To: Replied, Meaning: "A reply with the request's id came: its result, or the server's error object."},
			{From: Pending, Event: EventBadReply, To: Malformed, Meaning: "A reply with the request's id came that the protocol cannot read (both a result and an error, or neither)."},
			{From: Pending, Event: EventTimeout, To: TimedOut, Meaning: "No reply within the timeout, which runs from the call, through any wait in the send buffer and any retry."},
			{From: Pending, Event: EventLost, To: Lost, Meaning: "The connection the request was written on ended before its reply, or its write failed mid-way: reported as ErrLost, never silent."},
			{From: Pending, Event: EventRetry, To: Pending, Meaning: "The same, for a request marked Idempotent: it is sent again, with its id, on the next connection."},
			{From: Pending, Event: EventCancel, To: Cancelled, Meaning: "The request's ctx ended first."},
			{From: Pending, Event: EventSendFailed, To: Unsent, Meaning: "The tether client refused the message before writing any of it (closed, encoding, the buffer's policy), or closed with it never written."},
		},
		Terminal: []RequestState{Replied, Malformed, TimedOut, Lost, Cancelled, Unsent},
	}
}

// SubState is a state of a subscription's machine.
type SubState uint8

// The states of a subscription.
const (
	// Subscribing: the subscribe request is out, no reply yet.
	Subscribing SubState = iota
	// Subscribed: the server accepted; notifications flow.
	Subscribed
	// Resubscribing: the connection ended; the subscription is made again
	// on the next connection, before it reports ready.
	Resubscribing
	// Unsubscribing: the last reader left; the unsubscribe request is out.
	Unsubscribing
	// Unsubscribed: ended (the last reader left, or the client closed).
	Unsubscribed
	// SubFailed: the server refused the subscription, or the subscribe
	// request failed.
	SubFailed
)

// String returns the state's name, as diagrams show it.
func (s SubState) String() string {
	return [...]string{"Subscribing", "Subscribed", "Resubscribing", "Unsubscribing", "Unsubscribed", "Failed"}[s]
}

// SubEvent is an event of a subscription's machine.
type SubEvent uint8

// The events of a subscription. Zero is left unused.
const (
	_ SubEvent = iota
	// SubEventAccepted: the server accepted the subscribe (or unsubscribe)
	// request.
	SubEventAccepted
	// SubEventRefused: the server refused it, or the request failed.
	SubEventRefused
	// SubEventDropped: the connection ended.
	SubEventDropped
	// SubEventLeave: the last reader left.
	SubEventLeave
	// SubEventEnd: the client closed.
	SubEventEnd
)

// String returns the event's name, as diagrams and traces show it.
func (e SubEvent) String() string {
	return [...]string{"none", "accepted", "refused", "dropped", "leave", "end"}[e]
}

// SubTransition is one transition of a subscription's machine. Its
// Transport label is the topic, and its Attempt the number of the
// connection the subscription was last made on (0 for the first).
type SubTransition = fsm.TransitionOf[SubState, SubEvent]

// SubscriptionDef is the definition of a subscription's machine, drawn in
// docs/rpc-machines.md.
func SubscriptionDef() fsm.Def[SubState, SubEvent] {
	return fsm.Def[SubState, SubEvent]{
		Name:    "subscription",
		Initial: Subscribing,
		Rules: []fsm.RuleOf[SubState, SubEvent]{
			{From: Subscribing, Event: SubEventAccepted, To: Subscribed, Meaning: "The server accepted the subscribe request: notifications flow to the readers."},
			{From: Subscribing, Event: SubEventRefused, To: SubFailed, Meaning: "The server refused, or the subscribe request failed (timed out, lost, cancelled): Subscribe returns why."},
			{From: Subscribed, Event: SubEventDropped, To: Resubscribing, Meaning: "The connection ended: the subscription waits for the next one."},
			{From: Resubscribing, Event: SubEventDropped, To: Resubscribing, Meaning: "The connection ended again before the subscription was made again."},
			{From: Resubscribing, Event: SubEventAccepted, To: Subscribed, Meaning: "Made again in the Resubscribing stage of the new connection, before it reports ready (Open)."},
			{From: Resubscribing, Event: SubEventRefused, To: SubFailed, Meaning: "The server refused it on the new connection: the readers' streams end, Err says why."},
			{From: Subscribed, Event: SubEventLeave, To: Unsubscribing, Meaning: "The last reader left: the unsubscribe request goes out."},
			{From: Resubscribing, Event: SubEventLeave, To: Unsubscribed, Meaning: "The last reader left while disconnected: the server forgot it with the connection, nothing to send."},
			{From: Unsubscribing, Event: SubEventAccepted, To: Unsubscribed, Meaning: "The server ended the subscription."},
			{From: Unsubscribing, Event: SubEventRefused, To: Unsubscribed, Meaning: "The server did not confirm (refused, no reply, connection ended): the cause says which; nothing more is delivered."},
			{From: Subscribed, Event: SubEventEnd, To: Unsubscribed, Meaning: "The rpc client (or its tether client) closed."},
			{From: Resubscribing, Event: SubEventEnd, To: Unsubscribed, Meaning: "The same, while disconnected."},
		},
		Terminal: []SubState{Unsubscribed, SubFailed},
	}
}

var (
	requestChart = mustCompile(RequestDef())
	subChart     = mustCompile(SubscriptionDef())
)

func mustCompile[S, E comparable](d fsm.Def[S, E]) *fsm.CompiledOf[S, E] {
	c, err := fsm.Compile(d)
	if err != nil {
		panic(err) // the definitions above are valid: a test checks them
	}
	return c
}

// RequestTraceMermaid draws a request's trace (Request.Trace) as a Mermaid
// sequence diagram, as fsm's MachineOf.TraceMermaid does.
func RequestTraceMermaid(trace []RequestTransition) string { return requestChart.TraceMermaid(trace) }

// SubscriptionTraceMermaid draws a subscription's trace
// (Subscription.Trace) as a Mermaid sequence diagram.
func SubscriptionTraceMermaid(trace []SubTransition) string { return subChart.TraceMermaid(trace) }
