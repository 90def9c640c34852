package engine

import (
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Latency histograms, by route and operation:
//
//   - mizuchi_request_duration_seconds{route,op}: a request relayed to the
//     backend, from the head handed to the exchange to the response built
//     for the client (refusals answered on the loop are not timed: they
//     are counted in mizuchi_requests_total);
//   - mizuchi_upstream_request_duration_seconds{route,op}: one backend
//     request, from the upstream head being written to the backend's reply
//     read (the body transfer included); op is the operation sent upstream,
//     so an auto-multipart PutObject observes CreateMultipartUpload,
//     UploadPart and CompleteMultipartUpload.
//
// Each (route, op) histogram is created on its first observation and cached
// in the route's routeMetrics, as its request counters are: after that an
// observation is an atomic load and the histogram's own update, with no
// map lookup and no string building.

// latencyBuckets are the upper bounds, in seconds: from a loopback
// round trip (a millisecond) to a large upload (minutes).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// observe records a request's duration since start.
func (m *routeMetrics) observe(o op, start time.Time) {
	m.histogram(&m.latency[o], `mizuchi_request_duration_seconds`, o).UpdateDuration(start)
}

// observeUpstream records a backend request's duration since start.
func (m *routeMetrics) observeUpstream(o op, start time.Time) {
	m.histogram(&m.upLatency[o], `mizuchi_upstream_request_duration_seconds`, o).UpdateDuration(start)
}

// atomicHistogram caches one (route, op) histogram.
type atomicHistogram = atomic.Pointer[metrics.PrometheusHistogram]

func (m *routeMetrics) histogram(p *atomicHistogram, name string, o op) *metrics.PrometheusHistogram {
	if h := p.Load(); h != nil {
		return h
	}
	h := metrics.GetOrCreatePrometheusHistogramExt(name+`{route="`+escapeLabel(m.name)+`",op="`+o.String()+`"}`, latencyBuckets)
	p.Store(h)
	return h
}

// autoMPOp names the operation of an auto-multipart backend request.
func autoMPOp(method string, query []byte) op {
	switch {
	case method == "PUT":
		return opUploadPart
	case method == "DELETE":
		return opAbortMultipart
	case string(query) == "uploads":
		return opCreateMultipart
	}
	return opCompleteMultipart
}
