//go:build !race

package limits

import "testing"

func TestMatchContentType_NoAllocs(t *testing.T) {
	ps := []string{"text/*", "application/vnd.ms-*", "image/*"}
	ct := []byte("Image/PNG; charset=binary")
	if n := testing.AllocsPerRun(100, func() {
		if !MatchContentType(ps, ct) {
			panic("no match")
		}
	}); n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
}
