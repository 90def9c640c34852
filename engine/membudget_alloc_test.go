//go:build !race

package engine

import "testing"

func TestMemBudgetNoAllocs(t *testing.T) {
	b := newMemBudget(1 << 20)
	if n := testing.AllocsPerRun(1000, func() {
		if b.TryAcquire(copyBufSize) {
			b.Release(copyBufSize)
		}
	}); n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
}
