package engine

import (
	"sync"
	"testing"
)

func TestMemBudgetAcquireRelease(t *testing.T) {
	b := newMemBudget(10)
	if !b.TryAcquire(6) {
		t.Fatalf("TryAcquire(6) of 10 refused")
	}
	if b.TryAcquire(5) {
		t.Fatalf("TryAcquire(5) with 4 left succeeded")
	}
	if got := b.InUse(); got != 6 {
		t.Fatalf("unexpected in use after a refusal; got %d; want 6", got)
	}
	if !b.TryAcquire(4) {
		t.Fatalf("TryAcquire(4) with 4 left refused")
	}
	b.Release(6)
	b.Release(4)
	if got := b.InUse(); got != 0 {
		t.Fatalf("unexpected in use; got %d; want 0", got)
	}
	if b.TryAcquire(-1) {
		t.Fatalf("TryAcquire(-1) succeeded")
	}
	if got := newMemBudget(0).Size(); got != defaultBufferBudget {
		t.Fatalf("unexpected default budget; got %d; want %d", got, defaultBufferBudget)
	}
}

func TestMemBudgetOverRelease(t *testing.T) {
	b := newMemBudget(10)
	defer func() {
		if recover() == nil {
			t.Fatalf("Release without Acquire did not panic")
		}
	}()
	b.Release(1)
}

// TestMemBudgetConcurrent: many goroutines acquire and release; in use
// never passes the size and ends at zero (run with -race).
func TestMemBudgetConcurrent(t *testing.T) {
	const size = 1000
	b := newMemBudget(size)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var peak int64
	granted := 0
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			n := int64(50 + g*10)
			for i := 0; i < 2000; i++ {
				if !b.TryAcquire(n) {
					continue
				}
				if u := b.InUse(); u > size {
					t.Errorf("in use %d above the size %d", u, size)
				} else {
					mu.Lock()
					peak = max(peak, u)
					granted++
					mu.Unlock()
				}
				b.Release(n)
			}
		}(g)
	}
	wg.Wait()
	if got := b.InUse(); got != 0 {
		t.Fatalf("leak: in use %d after all releases; want 0", got)
	}
	if granted == 0 || peak == 0 {
		t.Fatalf("nothing granted")
	}
}

func TestReserveParts(t *testing.T) {
	f := func(budget, partSize int64, conc int, chunked bool, wantBufs int, wantHeld int64, wantErr *s3Error) {
		t.Helper()
		s := &Server{budget: newMemBudget(budget)}
		u := &UploadConfig{Concurrent: conc}
		bufs, held, e := s.reserveParts(u, partSize, chunked)
		if e != wantErr || bufs != wantBufs || held != wantHeld {
			t.Fatalf("unexpected reservation; got %d bufs, %d held, %v; want %d, %d, %v", bufs, held, e, wantBufs, wantHeld, wantErr)
		}
		if got := s.budget.InUse(); got != held {
			t.Fatalf("unexpected in use; got %d; want %d", got, held)
		}
		if e == nil {
			s.budget.Release(held)
		}
	}
	const mib = 1 << 20
	f(256*mib, 16*mib, 4, false, 5, 80*mib, nil)
	f(256*mib, 16*mib, 4, true, 5, 80*mib+2*copyBufSize, nil)
	f(40*mib, 16*mib, 4, false, 2, 32*mib, nil)            // degraded
	f(16*mib, 16*mib, 4, false, 1, 16*mib, nil)            // one buffer
	f(256*mib, 525*mib, 4, false, 0, 0, errPartOverBudget) // 5 TiB declared
	f(16*mib, 16*mib, 4, true, 0, 0, errPartOverBudget)    // no room for the read buffers

	// A second upload that does not fit beside the first waits its turn.
	s := &Server{budget: newMemBudget(100 * mib)}
	u := &UploadConfig{Concurrent: 4}
	_, held, e := s.reserveParts(u, 16*mib, false)
	if e != nil {
		t.Fatalf("first reservation refused: %v", e)
	}
	if _, _, e := s.reserveParts(u, 16*mib, false); e != errBufferBusy {
		t.Fatalf("unexpected second reservation; got %v; want %v", e, errBufferBusy)
	}
	s.budget.Release(held)
	if got := s.budget.InUse(); got != 0 {
		t.Fatalf("leak: in use %d; want 0", got)
	}
}
