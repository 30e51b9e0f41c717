package tetherotel

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
)

// ScopeName is the instrumentation scope of the meter New uses.
const ScopeName = "github.com/tether-go/tether/otel"

// Metric names. See docs/metrics.md for what each measures.
const (
	MetricConnections     = "tether.client.connections"
	MetricTransitions     = "tether.client.transitions"
	MetricReconnects      = "tether.client.reconnect.attempts"
	MetricReconnectDelay  = "tether.client.reconnect.delay"
	MetricRTT             = "tether.client.heartbeat.rtt"
	MetricMessages        = "tether.client.messages"
	MetricIO              = "tether.client.io"
	MetricDrops           = "tether.client.drops"
	MetricPossiblyLost    = "tether.client.possibly_lost"
	MetricBufferedMessage = "tether.client.buffered.messages"
)

// Attribute keys.
const (
	// AttrState is the lifecycle state, such as "Open".
	AttrState = attribute.Key("tether.state")
	// AttrEvent is the event of a transition, such as "dropped".
	AttrEvent = attribute.Key("tether.event")
	// AttrDropReason is why messages were dropped: buffer_full, too_large,
	// closed, subscriber (a subscriber's dropping overflow policy), or
	// inbound (inbound messages that reached no consumer: read after Close,
	// or thrown away unread by the transport in a close handshake).
	AttrDropReason = attribute.Key("tether.drop.reason")
	// AttrDirection is the semantic conventions' network.io.direction:
	// "receive" or "transmit".
	AttrDirection = attribute.Key("network.io.direction")
)

// Client is what the metrics read from a client. Every *tether.Client[T]
// implements it, whatever its T.
//
// Trace is read once, by Register, for the transitions the client made
// before it was registered.
type Client interface {
	State() fsm.State
	Trace() []fsm.Transition
	Stats() tether.Stats
	Buffered() (messages, bytes int)
	Watch(w tether.Watcher) (stop func())
}

// Metrics holds the instruments. Its methods are safe for concurrent use.
type Metrics struct {
	meter metric.Meter

	connections  metric.Int64ObservableUpDownCounter
	transitions  metric.Int64Counter
	reconnects   metric.Int64ObservableCounter
	delay        metric.Float64Histogram
	rtt          metric.Float64Histogram
	messages     metric.Int64ObservableCounter
	io           metric.Int64ObservableCounter
	drops        metric.Int64ObservableCounter
	possiblyLost metric.Int64ObservableCounter
	buffered     metric.Int64ObservableUpDownCounter
}

// New creates the instruments on mp's meter for ScopeName.
func New(mp metric.MeterProvider) (*Metrics, error) {
	if mp == nil {
		return nil, errors.New("tetherotel: nil MeterProvider")
	}
	m := &Metrics{meter: mp.Meter(ScopeName)}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	m.connections, err = m.meter.Int64ObservableUpDownCounter(MetricConnections, metric.WithUnit("{connection}"),
		metric.WithDescription("Clients by lifecycle state: 1 for the state each client is in, 0 for the others."))
	add(err)
	m.transitions, err = m.meter.Int64Counter(MetricTransitions, metric.WithUnit("{transition}"),
		metric.WithDescription("Lifecycle transitions, by event and by the state they lead to."))
	add(err)
	m.reconnects, err = m.meter.Int64ObservableCounter(MetricReconnects, metric.WithUnit("{attempt}"),
		metric.WithDescription("Reconnect attempts started."))
	add(err)
	m.delay, err = m.meter.Float64Histogram(MetricReconnectDelay, metric.WithUnit("s"),
		metric.WithDescription("Backoff delays the reconnect policy chose."),
		metric.WithExplicitBucketBoundaries(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300))
	add(err)
	m.rtt, err = m.meter.Float64Histogram(MetricRTT, metric.WithUnit("s"),
		metric.WithDescription("Heartbeat round-trip times."),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	add(err)
	m.messages, err = m.meter.Int64ObservableCounter(MetricMessages, metric.WithUnit("{message}"),
		metric.WithDescription("Data messages received, and messages Send accepted, by network.io.direction."))
	add(err)
	m.io, err = m.meter.Int64ObservableCounter(MetricIO, metric.WithUnit("By"),
		metric.WithDescription("Payload bytes of those messages, by network.io.direction."))
	add(err)
	m.drops, err = m.meter.Int64ObservableCounter(MetricDrops, metric.WithUnit("{message}"),
		metric.WithDescription("Messages dropped, by reason: outbound (buffer_full, too_large, closed), by a dropping subscriber (subscriber), or inbound ones that reached no consumer (inbound)."))
	add(err)
	m.possiblyLost, err = m.meter.Int64ObservableCounter(MetricPossiblyLost, metric.WithUnit("{message}"),
		metric.WithDescription("Outbound messages written to a connection that failed before the peer confirmed them."))
	add(err)
	m.buffered, err = m.meter.Int64ObservableUpDownCounter(MetricBufferedMessage, metric.WithUnit("{message}"),
		metric.WithDescription("Messages waiting in the outbound buffer."))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

var (
	receive  = attribute.String(string(AttrDirection), "receive")
	transmit = attribute.String(string(AttrDirection), "transmit")
)

// Register records c's metrics, each with attrs (a client name, say), until
// the returned function is called (it is idempotent). It starts no
// goroutine: counters are read when the exporter collects, and
// transitions, reconnect delays and round trips are recorded on the
// client's own goroutines as they happen.
//
// The transitions the client made before Register, as its Trace still
// holds them (the last WithTraceLimit), are counted by Register, each
// once: a client registered after tether.New, which starts connecting at
// once, has its first connect counted. Reconnect delays and round trips
// before Register are not recorded.
func (m *Metrics) Register(c Client, attrs ...attribute.KeyValue) (stop func(), err error) {
	base := attribute.NewSet(attrs...)
	with := func(kv ...attribute.KeyValue) metric.MeasurementOption {
		return metric.WithAttributes(append(base.ToSlice(), kv...)...)
	}
	all := metric.WithAttributeSet(base)
	states := fsm.States()
	reg, err := m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := c.Stats()
		cur := c.State()
		for _, s := range states {
			v := int64(0)
			if s == cur {
				v = 1
			}
			o.ObserveInt64(m.connections, v, with(AttrState.String(s.String())))
		}
		o.ObserveInt64(m.reconnects, int64(st.Reconnects), all)
		o.ObserveInt64(m.messages, int64(st.MessagesIn), with(receive))
		o.ObserveInt64(m.messages, int64(st.MessagesOut), with(transmit))
		o.ObserveInt64(m.io, int64(st.BytesIn), with(receive))
		o.ObserveInt64(m.io, int64(st.BytesOut), with(transmit))
		o.ObserveInt64(m.drops, int64(st.DropsBufferFull), with(AttrDropReason.String("buffer_full")))
		o.ObserveInt64(m.drops, int64(st.DropsTooLarge), with(AttrDropReason.String("too_large")))
		o.ObserveInt64(m.drops, int64(st.DropsClosed), with(AttrDropReason.String("closed")))
		o.ObserveInt64(m.drops, int64(st.SubscriberDrops), with(AttrDropReason.String("subscriber")))
		o.ObserveInt64(m.drops, int64(st.InboundDrops), with(AttrDropReason.String("inbound")))
		o.ObserveInt64(m.possiblyLost, int64(st.PossiblyLost), all)
		n, _ := c.Buffered()
		o.ObserveInt64(m.buffered, int64(n), all)
		return nil
	}, m.connections, m.reconnects, m.messages, m.io, m.drops, m.possiblyLost, m.buffered)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	count := func(tr fsm.Transition) {
		m.transitions.Add(ctx, 1, with(AttrEvent.String(tr.Event.String()), AttrState.String(tr.To.String())))
	}
	// The trace, read once the watcher is in place, holds every transition
	// up to its last; the watcher counts only the later ones. A watcher
	// hears of a transition after it happened, so it may hear of one the
	// trace holds (even after Register returned): the cut is by Seq, not
	// by the order of arrival. What it hears before the trace is read
	// waits in early.
	var (
		mu    sync.Mutex
		cut   uint64
		known bool
		early []fsm.Transition
	)
	unwatch := c.Watch(tether.Watcher{
		RTT:   func(d time.Duration) { m.rtt.Record(ctx, d.Seconds(), all) },
		Retry: func(r tether.Retry) { m.delay.Record(ctx, r.Delay.Seconds(), all) },
		Transition: func(tr fsm.Transition) {
			mu.Lock()
			if !known {
				early = append(early, tr)
				mu.Unlock()
				return
			}
			last := cut
			mu.Unlock()
			if tr.Seq > last {
				count(tr)
			}
		},
	})
	trace := c.Trace()
	var last uint64
	for _, tr := range trace {
		// Seq 0 is the initial snapshot, not a transition.
		if tr.Seq > 0 {
			count(tr)
		}
		last = max(last, tr.Seq)
	}
	mu.Lock()
	cut, known = last, true
	heard := early
	early = nil
	mu.Unlock()
	for _, tr := range heard {
		if tr.Seq > last {
			count(tr)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			unwatch()
			_ = reg.Unregister()
		})
	}, nil
}
