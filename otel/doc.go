// Package tetherotel records the metrics of tether clients with
// OpenTelemetry (go.opentelemetry.io/otel/metric), so that any OpenTelemetry
// exporter can ship them: Prometheus, OTLP, stdout. It is a module of its
// own (github.com/tether-go/tether/otel), so that the library's go.mod does
// not depend on OpenTelemetry.
//
// [New] builds the instruments on a meter; [Metrics.Register] records one
// client, with attributes that tell clients apart. Names and units follow
// the OpenTelemetry semantic conventions where they have one: units in
// UCUM ("s", "By", "{message}"), network.io.direction for traffic, and a
// state attribute on one up-down counter for the connection state, as
// db.client.connection.count does. The table of metrics is in
// docs/metrics.md.
//
// # Cost
//
// Counters and the state are read from Client.Stats and Client.State when
// the exporter collects: nothing per message. Transitions, reconnect
// delays and round trips are recorded as they happen, from the client's
// Watcher, which runs no goroutine.
package tetherotel
