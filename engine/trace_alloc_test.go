//go:build !race

package engine

import "testing"

// With tracing off every hook is a nil check: a request's hooks allocate
// nothing and add no upstream header.
func TestTraceOffNoAllocs(t *testing.T) {
	s, rt, req := newTraceFixture(t, nil)
	st, ex := &connState{}, &exchange{s: s}
	ar := &authResult{id: identity{method: "sigv4"}}
	n := testing.AllocsPerRun(200, func() {
		if hdr := traceRequest(s, st, ex, req, rt, ar); len(hdr) != 0 {
			t.Fatalf("unexpected upstream header lines %q", hdr)
		}
		s.traceRefused(st, req, noRoute, opUnknown, 404, "NoSuchBucket")
		st.traceClosed()
		ex.traceDrop()
	})
	if n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
}
