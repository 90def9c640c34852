//go:build !race

package engine

import (
	"testing"
	"time"
)

// The metric updates of one request (its counter, its latency and its
// backend latency, the in-flight gauge of its kind) allocate nothing once
// the route's series exist: they are cached in the route, not looked up.
func TestRequestMetricsNoAllocs(t *testing.T) {
	m := newRouteMetrics("alloc-test")
	ex := &exchange{op: opPutObject}
	start := time.Now()
	update := func() {
		ex.startInflight()
		m.observeUpstream(ex.op, start)
		m.count(ex.op, 200)
		m.observe(ex.op, start)
		ex.kind.done()
	}
	update() // creates the series
	if n := testing.AllocsPerRun(200, update); n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
	if got := inflightUploads[kindPut].Load(); got != 0 {
		t.Fatalf("in-flight PutObjects after the runs; got %d; want 0", got)
	}
}

// BenchmarkRequestMetrics is the metric work of one relayed request.
func BenchmarkRequestMetrics(b *testing.B) {
	m := newRouteMetrics("bench")
	ex := &exchange{op: opPutObject}
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		ex.startInflight()
		m.observeUpstream(ex.op, start)
		m.count(ex.op, 200)
		m.observe(ex.op, start)
		ex.kind.done()
	}
}
