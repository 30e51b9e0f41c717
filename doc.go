// Package tether is a client for long-lived connections, WebSocket first:
// the Go counterpart of a reusable useWebSocket, with the connection's
// lifecycle as an explicit state machine.
//
//	c, err := tether.New[Reading]("wss://feed.example/live")
//	if err != nil { ... }
//	defer c.Close(ctx)
//	for r := range c.Messages(ctx).All() {
//		fmt.Println(r.Sensor, r.Value)
//	}
//
// # What a Client does
//
// [New] composes a lifecycle machine (package fsm) with a transport
// (WebSocket by default), a reconnect policy and a heartbeat (package
// policy, applied by package adapters), and an outbound buffer. The client
// connects (at once, or on [Client.Connect]), decodes every message into T
// with a codec (JSON by default), reconnects with jittered exponential
// backoff when the connection is lost, probes the peer with pings and
// treats a silent peer as a failure, and queues sends made while it is not
// connected.
//
// # Observing it
//
// Snapshots: [Client.State], [Client.Status] (the seed's connecting, open,
// closing, closed), [Client.IsConnected], [Client.Latest], [Client.Err],
// [Client.RTT], [Client.WaitForStateChange].
//
// Streams, each subscription with its own bounded queue and overflow policy:
// [Client.Messages], [Client.Errors] and [Client.Transitions] as channels or
// iterators; package github.com/tether-go/tether/rx reads each of them as
// an rxgo Observable (rx.Messages, rx.Errors, rx.Transitions), so a program
// without Rx does not link rxgo.
//
// Callbacks, run in order on one goroutine and never under a lock:
// [OnOpen] and [OnClose] (once per connection), [OnDone] (once, at the
// end), [OnError], [OnTransition], [OnRetry]; [OnMessage] runs on the
// reader. A panic in code of yours that the client runs (a callback, a
// handler, a codec, a stage, a policy, a transport) is not recovered: it
// ends the program, as in a goroutine of your own, rather than leave the
// client in a state nobody could reason about.
//
// Pausing: [Client.Disconnect] closes the connection and keeps the client
// (subscriptions, callbacks, the send buffer) idle until [Client.Connect];
// [Client.Close] ends it for good.
//
// The history: [Client.Trace] returns it; [Client.TraceMermaid] and
// [Client.TraceDOT] draw it, with causes whole (bounded, redacted).
//
// # Errors
//
// Bad options: [*OptionError]. On the error stream: [*TransitionError] (a
// failed dial, a drop, a heartbeat timeout, the give-up; it unwraps to the
// cause, so errors.As finds a *transport.HandshakeError or a
// *policy.StopError), *stream.DecodeError, [*DropError] for every message
// the outbound buffer dropped, [*PossiblyLostError] once per connection
// that ended with messages unconfirmed, and the drop reports of
// subscribers and callbacks ([*SubscriberDropError], [*CallbackDropError]).
// Each matches exactly one class with errors.Is, to select on:
// [ErrConnection], [ErrMessage] or [ErrDelivery] (but a router handler's
// error that itself wraps an error of another class matches that one too).
// [Client.Err] is only why the client is not connected.
//
// # Testing
//
// The reconnect waits, the heartbeat and the stage timeouts go through the
// clock given to [WithClock]; package tethertest has a fake clock, and
// transport/memory a scriptable server, so tests of code built on tether
// step time instead of sleeping. The timers that bound real network
// operations run in real time: the connect timeout, the transports' own
// (the WebSocket close timeout, a polling request, a fallback probe) and
// the wait for a Dial that ignores its ctx at close
// (adapters.DialAbandonGrace) and the close limit on a connection's end
// (WithCloseLimit). docs/testing.md says how tests keep clear of them.
package tether
