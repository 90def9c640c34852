package pipes

import "testing"

func BenchmarkPoolAcquireRelease(b *testing.B) {
	p := NewPool(Config{})
	defer p.Close()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		pp, err := p.Acquire()
		if err != nil {
			b.Fatalf("cannot acquire: %s", err)
		}
		p.Release(pp)
	}
}

func BenchmarkSplice64MiB(b *testing.B) {
	p := NewPool(Config{})
	defer p.Close()
	benchMove(b, spliceMover(p))
}
