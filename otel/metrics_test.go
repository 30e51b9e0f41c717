package tetherotel_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	tetherotel "github.com/tether-go/tether/otel"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

const deadline = 10 * time.Second

// prom is a meter provider exported through the OpenTelemetry Prometheus
// exporter, and an HTTP endpoint that serves the scrape.
type prom struct {
	mp  *sdkmetric.MeterProvider
	srv *httptest.Server
}

func newProm(t *testing.T) *prom {
	t.Helper()
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	require.NoError(t, err)
	p := &prom{mp: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp)),
		srv: httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))}
	t.Cleanup(func() {
		p.srv.Close()
		require.NoError(t, p.mp.Shutdown(context.Background()))
	})
	return p
}

// scrape reads the endpoint as Prometheus would.
func (p *prom) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(p.srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(b)
}

// value returns the sample of metric whose labels include every one of
// labels (name="value" pairs), and false when there is none.
func value(scrape, metric string, labels ...string) (float64, bool) {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(metric) + `\{([^}]*)\} (\S+)$`)
next:
	for _, m := range re.FindAllStringSubmatch(scrape, -1) {
		for _, l := range labels {
			if !regexp.MustCompile(`(^|,)` + regexp.QuoteMeta(l) + `(,|$)`).MatchString(m[1]) {
				continue next
			}
		}
		v, err := strconv.ParseFloat(m[2], 64)
		return v, err == nil
	}
	return 0, false
}

func sample(t *testing.T, scrape, metric string, labels ...string) float64 {
	t.Helper()
	v, ok := value(scrape, metric, labels...)
	require.True(t, ok, "no %s%v in the scrape:\n%s", metric, labels, scrape)
	return v
}

// TestPrometheusScrape drives a client through traffic, a drop, a backoff
// and a reconnect, and reads each metric's real value from a Prometheus
// scrape.
func TestPrometheusScrape(t *testing.T) {
	p := newProm(t)
	m, err := tetherotel.New(p.mp)
	require.NoError(t, err)

	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	clk := tethertest.NewFakeClock(time.Time{})
	backoff, err := policy.New(policy.Exponential{Initial: 2 * time.Second, Max: 8 * time.Second, Multiplier: 2,
		Jitter: policy.JitterNone}, policy.WithFloorSpread(0))
	require.NoError(t, err)
	c, err := tether.New[string]("memory://feed", tether.WithTransport(srv.Transport()), tether.WithClock(clk),
		tether.WithReconnect(backoff), tether.WithAutoConnect(false),
		tether.WithHeartbeat(policy.Heartbeat{Interval: time.Second, PongTimeout: 500 * time.Millisecond}),
		tether.WithSendBuffer(1, 1024, stream.DropOldest))
	require.NoError(t, err)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		require.NoError(t, c.Close(ctx))
	}()
	stop, err := m.Register(c, attribute.String("client", "feed"))
	require.NoError(t, err)
	defer stop()

	out := sample(t, p.scrape(t), "tether_client_connections", `client="feed"`, `tether_state="Idle"`)
	assert.Equal(t, 1.0, out, "Idle before connecting")

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	// Two sends while Idle: the buffer holds one, the oldest is dropped.
	require.NoError(t, c.Send(ctx, "first"))
	require.NoError(t, c.Send(ctx, "second"))
	msgs := c.Messages(ctx)
	require.NoError(t, c.Connect(ctx))
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	got, err := sc.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "second", string(got.Payload))
	for _, s := range []string{"a", "bb", "ccc"} {
		require.NoError(t, sc.Send(ctx, transport.Text, []byte(`"`+s+`"`)))
	}
	for range 3 {
		select {
		case <-msgs.C():
		case <-ctx.Done():
			require.FailNow(t, "messages did not arrive")
		}
	}
	// A heartbeat round trip: the server reads, so it answers the ping.
	rtt := make(chan time.Duration, 1)
	unwatch := c.Watch(tether.Watcher{RTT: func(d time.Duration) { rtt <- d }})
	go func() { _, _ = sc.Recv(ctx) }()
	require.NoError(t, clk.BlockUntil(ctx, 1))
	clk.Step(time.Second)
	select {
	case <-rtt:
	case <-ctx.Done():
		require.FailNow(t, "no round trip")
	}
	unwatch()

	// Dropped, backing off, reconnected.
	// State reads Waiting a moment before the reconnect decision is made
	// (the machine moves first): wait for the decision.
	decided := make(chan tether.Retry, 1)
	stopWatch := c.Watch(tether.Watcher{Retry: func(r tether.Retry) { decided <- r }})
	sc.Drop()
	select {
	case r := <-decided:
		assert.Equal(t, 2*time.Second, r.Delay)
	case <-ctx.Done():
		require.FailNow(t, "no reconnect scheduled")
	}
	stopWatch()
	// Once the machine's hooks are done with Waiting, the timer is armed.
	require.True(t, c.WaitForStateChange(ctx, fsm.Open))
	clk.Step(c.Stats().NextRetryAt.Sub(clk.Now()))
	_, err = srv.Accept(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Connect(ctx))

	s := p.scrape(t)
	t.Log(s)
	feed := `client="feed"`
	assert.Equal(t, 1.0, sample(t, s, "tether_client_connections", feed, `tether_state="Open"`))
	assert.Equal(t, 0.0, sample(t, s, "tether_client_connections", feed, `tether_state="Waiting"`))
	assert.Equal(t, 2.0, sample(t, s, "tether_client_transitions_total", feed, `tether_event="dialed"`, `tether_state="Open"`))
	assert.Equal(t, 1.0, sample(t, s, "tether_client_transitions_total", feed, `tether_event="dropped"`, `tether_state="Waiting"`))
	assert.Equal(t, 1.0, sample(t, s, "tether_client_reconnect_attempts_total", feed))
	assert.Equal(t, 1.0, sample(t, s, "tether_client_reconnect_delay_seconds_count", feed))
	assert.Equal(t, 2.0, sample(t, s, "tether_client_reconnect_delay_seconds_sum", feed), "the first backoff, 2 s")
	assert.Equal(t, 1.0, sample(t, s, "tether_client_heartbeat_rtt_seconds_count", feed))
	assert.Equal(t, 3.0, sample(t, s, "tether_client_messages_total", feed, `network_io_direction="receive"`))
	assert.Equal(t, 2.0, sample(t, s, "tether_client_messages_total", feed, `network_io_direction="transmit"`))
	assert.Equal(t, float64(len(`"a""bb""ccc"`)), sample(t, s, "tether_client_io_bytes_total", feed, `network_io_direction="receive"`))
	assert.Equal(t, float64(len("firstsecond")), sample(t, s, "tether_client_io_bytes_total", feed, `network_io_direction="transmit"`))
	assert.Equal(t, 1.0, sample(t, s, "tether_client_drops_total", feed, `tether_drop_reason="buffer_full"`))
	assert.Equal(t, 0.0, sample(t, s, "tether_client_drops_total", feed, `tether_drop_reason="closed"`))
	assert.Equal(t, 0.0, sample(t, s, "tether_client_possibly_lost_total", feed),
		"second was confirmed by the pong that answered the ping after it")
	assert.Equal(t, 0.0, sample(t, s, "tether_client_buffered_messages", feed))

	stop()
	stop() // idempotent
	_, ok := value(p.scrape(t), "tether_client_connections", feed)
	assert.False(t, ok, "a client no longer registered is not reported")
}

// TestRegisterAfterNewCountsTheConnect: a client registered after
// tether.New, which connects at once, has the transitions it made before
// Register counted, each once, and the later ones as they happen.
func TestRegisterAfterNewCountsTheConnect(t *testing.T) {
	p := newProm(t)
	m, err := tetherotel.New(p.mp)
	require.NoError(t, err)
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	c, err := tether.New[string]("memory://feed", tether.WithTransport(srv.Transport()), tether.WithoutHeartbeat(),
		tether.WithClock(tethertest.NewFakeClock(time.Time{})))
	require.NoError(t, err)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		require.NoError(t, c.Close(ctx))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Connect(ctx))

	stop, err := m.Register(c, attribute.String("client", "feed"))
	require.NoError(t, err)
	defer stop()
	feed := `client="feed"`
	s := p.scrape(t)
	assert.Equal(t, 1.0, sample(t, s, "tether_client_transitions_total", feed, `tether_event="dialed"`, `tether_state="Open"`))
	assert.Equal(t, 1.0, sample(t, s, "tether_client_transitions_total", feed, `tether_state="Connecting"`))

	// Watchers hear of a transition in the order they were registered:
	// once this one hears of Waiting, Register's has counted it.
	waiting := make(chan struct{})
	var once sync.Once
	unwatch := c.Watch(tether.Watcher{Transition: func(tr fsm.Transition) {
		if tr.To == fsm.Waiting {
			once.Do(func() { close(waiting) })
		}
	}})
	defer unwatch()
	sc.Drop()
	select {
	case <-waiting:
	case <-ctx.Done():
		require.FailNow(t, "the client never reached Waiting")
	}
	s = p.scrape(t)
	assert.Equal(t, 1.0, sample(t, s, "tether_client_transitions_total", feed, `tether_event="dropped"`, `tether_state="Waiting"`))
	assert.Equal(t, 1.0, sample(t, s, "tether_client_transitions_total", feed, `tether_event="dialed"`, `tether_state="Open"`),
		"counted once")
}
