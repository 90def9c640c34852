package main

import (
	"fmt"
	"io"

	"github.com/VictoriaMetrics/metrics"

	"github.com/mizuchi-gw/mizuchi/engine"
)

// Every series of the gateway is listed in docs/METRICS.md
// (metrics_doc_test.go keeps the two in step).

// setupMetrics readies /metrics: HELP and TYPE lines for every family (so
// Prometheus knows histograms and counters from gauges), and the backend
// connection gauges of the live routes.
func setupMetrics(s *engine.Server) {
	metrics.ExposeMetadata(true)
	metrics.RegisterMetricsWriter(func(w io.Writer) { writeUpstreamConns(w, s.Router().Routes()) })
}

// writeUpstreamConns writes, for each route of the live configuration,
// its backend connections by path: "worker" for the shared pool the
// worker goroutines use (upstream.Pool), "loop" for the connections the
// event loops hold for the in-loop relay. Written at scrape time from the
// live routes, so a route removed by a reload disappears from /metrics.
func writeUpstreamConns(w io.Writer, routes []*engine.Route) {
	if len(routes) == 0 {
		return
	}
	families := [...]struct {
		name         string
		worker, loop func(*engine.Route) int64
	}{
		{"mizuchi_upstream_connections_open",
			func(rt *engine.Route) int64 { return rt.Endpoint.Pool.Open() },
			func(rt *engine.Route) int64 { return rt.Endpoint.Links.Open() }},
		{"mizuchi_upstream_connections_idle",
			func(rt *engine.Route) int64 { return int64(rt.Endpoint.Pool.Idle()) },
			func(rt *engine.Route) int64 { return rt.Endpoint.Links.Idle() }},
	}
	for _, f := range families {
		metrics.WriteMetadataIfNeeded(w, f.name, "gauge")
		for _, rt := range routes {
			r := promQuote(rt.Name)
			fmt.Fprintf(w, "%s{route=%s,path=\"worker\"} %d\n", f.name, r, f.worker(rt))
			fmt.Fprintf(w, "%s{route=%s,path=\"loop\"} %d\n", f.name, r, f.loop(rt))
		}
	}
}
