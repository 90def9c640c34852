package engine

import (
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/pipes"
)

// withFDLimit installs limit (and pool) in the process's account for one
// test and puts the previous ones back.
func withFDLimit(t *testing.T, limit int64, p *pipes.Pool) {
	t.Helper()
	oldLimit, oldPipes := fdAcct.limit.Load(), fdAcct.pipes.Load()
	setFDLimit(limit, p)
	t.Cleanup(func() { setFDLimit(oldLimit, oldPipes) })
}

func TestFDAccountTake(t *testing.T) {
	base := fdAcct.used()
	withFDLimit(t, base+5, nil)
	if fdAcct.full(5) || !fdAcct.full(6) {
		t.Fatalf("unexpected full; used %d of %d", fdAcct.used(), fdAcct.limit.Load())
	}
	if !fdAcct.take(3) {
		t.Fatal("3 of 5 free descriptors refused")
	}
	if fdAcct.take(3) {
		t.Fatal("3 descriptors taken with 2 free")
	}
	if got := fdAcct.used(); got != base+3 {
		t.Fatalf("a refused take stayed counted; got %d; want %d", got, base+3)
	}
	if !fdAcct.take(2) {
		t.Fatal("2 of 2 free descriptors refused")
	}
	if !fdAcct.full(1) {
		t.Fatal("the account at its limit is not full")
	}
	activeConns.Add(1) // a client connection counts too
	if got := fdAcct.used(); got != base+6 {
		t.Fatalf("unexpected used with a client connection; got %d; want %d", got, base+6)
	}
	activeConns.Add(-1)
	fdAcct.release(5)
	if got := fdAcct.used(); got != base {
		t.Fatalf("unexpected used after release; got %d; want %d", got, base)
	}

	// Not limited: everything is taken and still counted.
	setFDLimit(0, nil)
	if fdAcct.full(1 << 40) {
		t.Fatal("an unlimited account is full")
	}
	if !fdAcct.take(1<<20) || fdAcct.used() != base+1<<20 {
		t.Fatalf("an unlimited take was not counted; used %d", fdAcct.used())
	}
	fdAcct.release(1 << 20)
}

// Free pipes of the pool count two descriptors each; pipes in use are the
// charge of the request using them.
func TestFDAccountPipes(t *testing.T) {
	pp := pipes.NewPool(pipes.Config{Max: 4, MaxFree: 4, PipeSize: 4096})
	defer pp.Close()
	if pp.Free() != 1 {
		t.Skipf("no pipes here (free %d)", pp.Free())
	}
	withFDLimit(t, 0, nil)
	base := fdAcct.used()
	setFDLimit(0, pp)
	if got := fdAcct.used(); got != base+2 {
		t.Fatalf("unexpected used with one free pipe; got %d; want %d", got, base+2)
	}
	a, err := pp.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	b, err := pp.Acquire() // made lazily
	if err != nil {
		t.Fatal(err)
	}
	if got := fdAcct.used(); got != base {
		t.Fatalf("unexpected used with the pipes in use; got %d; want %d", got, base)
	}
	pp.Release(a)
	pp.Release(b)
	if got := fdAcct.used(); got != base+4 {
		t.Fatalf("unexpected used with two free pipes; got %d; want %d", got, base+4)
	}
}

func TestFDCharge(t *testing.T) {
	f := func(name string, zeroCopy bool, chunked bool, bodyLen int64, ar authResult, want int64) {
		t.Helper()
		s := &Server{cfg: Config{ZeroCopy: zeroCopy}}
		s.SetTunables(Tunables{})
		rt := &Route{}
		req := &httpparse.Request{Chunked: chunked}
		if got := s.fdCharge(rt, req, &ar, bodyLen); got != want {
			t.Fatalf("%s: unexpected charge; got %d; want %d", name, got, want)
		}
	}
	f("small buffered body", true, false, 1000, authResult{}, 1)
	f("no body", true, false, 0, authResult{}, 1)
	f("spliced body", true, false, 1<<20, authResult{}, 5)
	f("copied body", false, false, 1<<20, authResult{}, 3)
	f("aws-chunked body", true, false, 1<<20, authResult{streaming: true}, 3)
	f("spooled body", true, true, -1, authResult{spool: true}, 6)
	f("auto-multipart", true, false, 1<<30, authResult{autoMP: true}, 6)
}

func TestAdmitFDs(t *testing.T) {
	s := &Server{cfg: Config{ZeroCopy: true}}
	s.SetTunables(Tunables{})
	rt := &Route{}
	req := &httpparse.Request{}
	ar := authResult{}
	base := fdAcct.used()
	withFDLimit(t, base+6, nil)
	st := &connState{}
	if !s.admitFDs(st, rt, req, &ar, 1<<20) || st.fds != 5 {
		t.Fatalf("a spliced upload that fits was refused (charge %d)", st.fds)
	}
	if !s.admitFDs(st, rt, req, &ar, 1<<20) || fdAcct.used() != base+5 {
		t.Fatalf("a head looked at again was charged twice; used %d; want %d", fdAcct.used(), base+5)
	}
	refused := refusedFDs.Get()
	st2 := &connState{}
	if s.admitFDs(st2, rt, req, &ar, 1<<20) || st2.fds != 0 {
		t.Fatal("an upload that does not fit was admitted")
	}
	if refusedFDs.Get() != refused+1 {
		t.Fatal("the refusal was not counted")
	}
	if !s.admitFDs(st2, rt, req, &ar, 10) {
		t.Fatal("a small upload that fits was refused")
	}
	st2.releaseFDs()
	ex := &exchange{}
	st.handFDs(ex)
	if st.fds != 0 || ex.fds != 5 {
		t.Fatalf("the charge did not move to the exchange; connection %d, exchange %d", st.fds, ex.fds)
	}
	st.releaseFDs() // nothing left: a no-op
	if fdAcct.used() != base+5 {
		t.Fatalf("unexpected used with the exchange's charge; got %d; want %d", fdAcct.used(), base+5)
	}
	fdAcct.release(ex.fds)
	if fdAcct.used() != base {
		t.Fatalf("unexpected used after the exchange; got %d; want %d", fdAcct.used(), base)
	}
}
