package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
)

// The heartbeats of BenchmarkDetect.
var (
	detectHeartbeatFull  = heartbeat{interval: time.Second, pongTimeout: 500 * time.Millisecond}
	detectHeartbeatSmoke = heartbeat{interval: 200 * time.Millisecond, pongTimeout: 100 * time.Millisecond}
)

// detectSlack is what the target allows beyond interval + pong timeout.
const detectSlack = 100 * time.Millisecond

// BenchmarkDetect measures how long a tether client takes to notice a
// black-holed peer: clients connect through a proxy (blackhole_test.go) to
// a server that answers pings; at a random moment within a heartbeat
// interval of its own, each trial's link starts dropping every byte, and
// the time from then to the client's heartbeat_timeout transition (its
// own timestamp) is one detection. The trials run at once, one client
// each. It ignores b.N.
//
// Metrics: the min, p50 and max detection times (ms), and the bound the
// target sets, interval + pong timeout + 100 ms. Trials:
// TETHER_BENCH_DETECT_TRIALS (default 3, or 20 with TETHER_BENCH_FULL);
// heartbeat 1 s / 500 ms with TETHER_BENCH_FULL, otherwise 200 ms / 100 ms.
func BenchmarkDetect(b *testing.B) {
	hb := detectHeartbeatSmoke
	if full() {
		hb = detectHeartbeatFull
	}
	trials := size(b, detectTrialsEnv, 3, 20)
	b.Run(fmt.Sprintf("interval=%s/pong=%s/impl=tether", hb.interval, hb.pongTimeout), func(b *testing.B) {
		benchDetect(b, hb, trials)
	})
}

func benchDetect(b *testing.B, hb heartbeat, trials int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := newWSServer(ln)
	defer srv.close()
	proxy, err := newBlackhole(ln.Addr().String(), trials)
	if err != nil {
		b.Fatal(err)
	}
	defer proxy.close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	clients := make([]*tether.Client[[]byte], trials)
	subs := make([]*stream.Subscription[fsm.Transition], trials)
	links := make([]*link, trials)
	defer func() {
		for _, c := range clients {
			if c != nil {
				_ = c.Close(ctx)
			}
		}
	}()
	for i := range clients {
		c, err := tether.New[[]byte]("ws://"+proxy.addr()+"/",
			tether.WithHeartbeat(policy.Heartbeat{Interval: hb.interval, PongTimeout: hb.pongTimeout}),
			tether.WithoutReconnect(),
			tether.WithAutoConnect(false),
		)
		if err != nil {
			b.Fatal(err)
		}
		clients[i] = c
		subs[i] = c.Transitions(ctx)
		if err := c.Connect(ctx); err != nil {
			b.Fatal(err)
		}
		select {
		case links[i] = <-proxy.links:
		case <-ctx.Done():
			b.Fatal(ctx.Err())
		}
	}

	detections := make([]time.Duration, trials)
	b.ResetTimer()
	err = parallel(trials, trials, func(i int) error {
		select {
		case <-time.After(rand.N(hb.interval)):
		case <-ctx.Done():
			return ctx.Err()
		}
		start := time.Now()
		links[i].hole()
		for tr := range subs[i].All() {
			if tr.Event == fsm.EventHeartbeatTimeout {
				detections[i] = tr.Time.Sub(start)
				return nil
			}
			if tr.To == fsm.Closed {
				return fmt.Errorf("trial %d: closed without a heartbeat timeout: %v", i, tr)
			}
		}
		return fmt.Errorf("trial %d: %w", i, ctx.Err())
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	slices.Sort(detections)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(detections[0]), "min-ms")
	b.ReportMetric(ms(durPercentile(detections, 50)), "p50-ms")
	b.ReportMetric(ms(detections[len(detections)-1]), "max-ms")
	b.ReportMetric(ms(hb.interval+hb.pongTimeout+detectSlack), "bound-ms")
	b.ReportMetric(float64(trials), "trials")
}
