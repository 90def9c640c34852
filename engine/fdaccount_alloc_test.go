//go:build !race

package engine

import (
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/pipes"
)

// The descriptor account's checks, at accept and at request admission,
// allocate nothing.
func TestFDAccountNoAllocs(t *testing.T) {
	pp := pipes.NewPool(pipes.Config{Max: 4, PipeSize: 4096})
	defer pp.Close()
	s := &Server{cfg: Config{ZeroCopy: true}}
	s.SetTunables(Tunables{})
	withFDLimit(t, fdAcct.used()+100, pp)
	rt := &Route{}
	req := &httpparse.Request{}
	ar := authResult{}
	st := &connState{}
	ex := &exchange{}
	n := testing.AllocsPerRun(500, func() {
		if fdAcct.full(1) {
			t.Fatal("accept refused")
		}
		if !s.admitFDs(st, rt, req, &ar, 1<<20) {
			t.Fatal("request refused")
		}
		st.handFDs(ex)
		fdAcct.release(ex.fds)
		ex.fds = 0
		if !s.admitFDs(st, rt, req, &ar, 10) {
			t.Fatal("request refused")
		}
		st.releaseFDs()
	})
	if n != 0 {
		t.Fatalf("unexpected allocations per accept and request; got %v; want 0", n)
	}
}
