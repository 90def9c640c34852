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

// TestBodyBufAllocs: the copy path allocates nothing; the splice path
// allocates only the client socket's syscall.RawConn (net.TCPConn's
// SyscallConn), once per detached body, as pumpBody always did.
func TestBodyBufAllocs(t *testing.T) {
	f := func(zeroCopy bool, want float64) {
		t.Helper()
		ex, tcp, up := bodyBufFixture(t)
		ex.s.cfg.ZeroCopy = zeroCopy
		bb, _ := ex.takeBodyBuf(tcp, up) // make the pipe and fill the buffer pool once
		ex.putBodyBuf(bb)
		if n := testing.AllocsPerRun(1000, func() {
			bb, ok := ex.takeBodyBuf(tcp, up)
			if ok {
				ex.putBodyBuf(bb)
			}
		}); n != want {
			t.Fatalf("unexpected allocations with zero copy %v; got %v; want %v", zeroCopy, n, want)
		}
	}
	f(false, 0)
	f(true, 1)
}
