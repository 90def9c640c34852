package engine

import (
	"strconv"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// Metrics registered once. Label values come from fixed sets: route names
// from the configuration, operation names from opNames, statuses from
// metricStatuses (anything else is "other").
var (
	bytesSpliced = metrics.NewCounter(`mizuchi_body_bytes_total{path="splice"}`)
	bytesCopied  = metrics.NewCounter(`mizuchi_body_bytes_total{path="copy"}`)

	connsAccepted = metrics.NewCounter(`mizuchi_connections_accepted_total`)
	connsRejected = metrics.NewCounter(`mizuchi_connections_rejected_total`)
	detachTotal   = metrics.NewCounter(`mizuchi_detach_total`)
	reenrollFail  = metrics.NewCounter(`mizuchi_reenroll_failures_total`)
	timeoutsTotal = metrics.NewCounter(`mizuchi_timeouts_total`)

	upstreamErrors = metrics.NewCounter(`mizuchi_upstream_errors_total`)
	authSigV4OK    = metrics.NewCounter(`mizuchi_auth_success_total{method="sigv4"}`)
	authJWTOK      = metrics.NewCounter(`mizuchi_auth_success_total{method="jwt"}`)
	chunkFailures  = metrics.NewCounter(`mizuchi_chunk_signature_failures_total`)
	autoMPStarted  = metrics.NewCounter(`mizuchi_auto_multipart_total{result="started"}`)
	autoMPDone     = metrics.NewCounter(`mizuchi_auto_multipart_total{result="completed"}`)
	autoMPAborted  = metrics.NewCounter(`mizuchi_auto_multipart_total{result="aborted"}`)
	autoMPRetries  = metrics.NewCounter(`mizuchi_auto_multipart_part_retries_total`)
	chunkedBodies  = metrics.NewCounter(`mizuchi_aws_chunked_total`)
	// aws-chunked bodies on anonymous routes: decoded, signatures unchecked
	chunkedUnverified = metrics.NewCounter(`mizuchi_aws_chunked_unverified_total`)
	// STREAMING-UNSIGNED-PAYLOAD-TRAILER bodies with Transfer-Encoding: chunked, decoded here
	chunkedUnsigned = metrics.NewCounter(`mizuchi_aws_chunked_unsigned_total`)
	clientAborts    = metrics.NewCounter(`mizuchi_client_aborts_total`)
	// requests parked on the loop while a remote authorization decides
	authzParked = metrics.NewCounter(`mizuchi_authz_parked_total`)

	// How requests with a buffered body were relayed: on the event loop
	// over a link (uplink.go), or by a worker goroutine.
	relayLoop        = metrics.NewCounter(`mizuchi_buffered_relays_total{path="loop"}`)
	relayWorker      = metrics.NewCounter(`mizuchi_buffered_relays_total{path="worker"}`)
	relayRetried     = metrics.NewCounter(`mizuchi_loop_relay_retries_total`)
	linkDials        = metrics.NewCounter(`mizuchi_upstream_link_dials_total`)
	linkDialFailures = metrics.NewCounter(`mizuchi_upstream_link_dial_failures_total`)

	activeConns   atomic.Int64 // open client connections, detached ones included
	detachedConns atomic.Int64 // client connections currently outside gnet
	inflight      atomic.Int64 // requests being relayed upstream
)

func init() {
	metrics.NewGauge(`mizuchi_connections_active`, func() float64 { return float64(activeConns.Load()) })
	metrics.NewGauge(`mizuchi_connections_detached`, func() float64 { return float64(detachedConns.Load()) })
	metrics.NewGauge(`mizuchi_requests_inflight`, func() float64 { return float64(inflight.Load()) })
}

var metricStatuses = [...]int{200, 204, 400, 403, 404, 405, 408, 411, 412, 413, 414, 431, 500, 501, 502, 503, 504, 505}

const numStatuses = len(metricStatuses) + 1 // + "other"

func statusIndex(status int) int {
	for i, s := range metricStatuses {
		if s == status {
			return i
		}
	}
	return len(metricStatuses)
}

// routeMetrics holds one route's request counters, created on first use (a
// cold path taken once per route, operation and status).
type routeMetrics struct {
	name     string
	requests [numOps][numStatuses]atomic.Pointer[metrics.Counter]
	// latency histograms by operation (latency.go)
	latency, upLatency [numOps]atomicHistogram
}

func newRouteMetrics(name string) *routeMetrics { return &routeMetrics{name: name} }

// noRoute counts requests that matched no route.
var noRoute = newRouteMetrics("-")

func (m *routeMetrics) count(o op, status int) {
	si := statusIndex(status)
	p := &m.requests[o][si]
	c := p.Load()
	if c == nil {
		st := "other"
		if si < len(metricStatuses) {
			st = strconv.Itoa(metricStatuses[si])
		}
		c = metrics.GetOrCreateCounter(`mizuchi_requests_total{route="` + escapeLabel(m.name) + `",op="` + o.String() + `",status="` + st + `"}`)
		p.Store(c)
	}
	c.Inc()
}

func escapeLabel(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\\':
			out = append(out, '\\', s[i])
		case '\n':
			out = append(out, '\\', 'n')
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}
