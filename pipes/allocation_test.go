//go:build linux && !race

package pipes

import (
	"testing"
)

func TestAllocs_AcquireRelease(t *testing.T) {
	p := NewPool(Config{})
	defer p.Close()
	n := testing.AllocsPerRun(1000, func() {
		pp, err := p.Acquire()
		if err != nil {
			t.Fatalf("cannot acquire: %s", err)
		}
		p.Release(pp)
	})
	if n != 0 {
		t.Fatalf("unexpected allocations in Acquire/Release; got %v; want 0", n)
	}
}

func TestAllocs_SpliceAndCopy(t *testing.T) {
	p := NewPool(Config{})
	defer p.Close()
	pp, err := p.Acquire()
	if err != nil {
		t.Fatalf("cannot acquire: %s", err)
	}
	defer p.Release(pp)
	srcPeer, src := tcpPair(t)
	dst, dstPeer := tcpPair(t)
	drc, _ := dst.SyscallConn()
	src_, _ := src.SyscallConn()
	in, out := make([]byte, 100), make([]byte, 100)
	buf := make([]byte, 4096)

	f := func(name string, move func() (int64, error)) {
		t.Helper()
		allocs := testing.AllocsPerRun(100, func() {
			srcPeer.Write(in)
			if m, err := move(); m != 100 || err != nil {
				t.Fatalf("%s: unexpected result; got %d, %v", name, m, err)
			}
			for got := 0; got < 100; {
				m, err := dstPeer.Read(out[got:])
				if err != nil {
					t.Fatalf("cannot read: %s", err)
				}
				got += m
			}
		})
		if allocs != 0 {
			t.Fatalf("%s: unexpected allocations; got %v; want 0", name, allocs)
		}
	}
	f("Splice", func() (int64, error) { return Splice(drc, src_, pp, 100) })
	f("Copy", func() (int64, error) { return Copy(dst, src, 100, buf) })
}
