package engine

import (
	"testing"
	"time"
)

// The durations derived from the request's one clock read measure what
// separate reads would: the request's from ex.start, the backend's from
// ex.upStart (ex.start plus the monotonic time elapsed), both growing
// with the time that really passes.
func TestLoopClockDurations(t *testing.T) {
	ex := &exchange{start: time.Now()}
	time.Sleep(20 * time.Millisecond)
	ex.upStart = ex.sinceStart()
	if off := ex.upStart.Sub(ex.start); off < 20*time.Millisecond || off > 10*time.Second {
		t.Fatalf("upstream start offset; got %v; want >= 20ms", off)
	}
	if d := time.Since(ex.upStart); d < 0 || d > 10*time.Second {
		t.Fatalf("upStart is not now; time since it %v", d)
	}
	time.Sleep(30 * time.Millisecond)
	total, up := ex.linkDurations()
	if total < 50*time.Millisecond || up < 30*time.Millisecond || total-up < 20*time.Millisecond || total > 10*time.Second {
		t.Fatalf("durations; got total %v, upstream %v; want >= 50ms, >= 30ms, 20ms apart", total, up)
	}
}
