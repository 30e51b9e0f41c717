package tetherotel_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/tether-go/tether"
	tetherotel "github.com/tether-go/tether/otel"
)

// Export a client's metrics through the OpenTelemetry Prometheus exporter,
// and scrape them as Prometheus would.
func Example_prometheus() {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		panic(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer mp.Shutdown(context.Background())
	m, err := tetherotel.New(mp)
	if err != nil {
		panic(err)
	}

	c, err := tether.New[string]("wss://feed.example/live", tether.WithAutoConnect(false))
	if err != nil {
		panic(err)
	}
	defer c.Close(context.Background())
	stop, err := m.Register(c, attribute.String("client", "feed"))
	if err != nil {
		panic(err)
	}
	defer stop()

	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "tether_client_connections{") && strings.HasSuffix(line, " 1") {
			fmt.Println(line[strings.Index(line, "tether_state="):])
		}
	}
	// Output:
	// tether_state="Idle"} 1
}
