package pipes

import (
	"io"
	"net"
	"testing"
)

// benchMove moves 64 MiB per iteration from a writer goroutine through mv to
// a reader goroutine over loopback. Writer and reader cost the same for every
// mover, so the MB/s of the benchmarks compare the movers.
func benchMove(b *testing.B, mv mover) {
	const n = 64 << 20
	srcPeer, src := tcpPair(b)
	dst, dstPeer := tcpPair(b)
	go func() {
		buf := pattern[:64<<10]
		for {
			if _, err := srcPeer.Write(buf); err != nil {
				return
			}
		}
	}()
	go func() {
		buf := make([]byte, 256<<10)
		for {
			if _, err := dstPeer.Read(buf); err != nil {
				return
			}
		}
	}()
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := mv(dst, src, n)
		if err != nil || got != n {
			b.Fatalf("unexpected result; got %d, %v; want %d, nil", got, err, n)
		}
	}
	b.StopTimer()
	src.Close()
	dst.Close()
}

func BenchmarkCopy64MiB(b *testing.B) {
	buf := make([]byte, 256<<10)
	benchMove(b, func(dst, src *net.TCPConn, n int64) (int64, error) {
		return Copy(dst, src, n, buf)
	})
}

// BenchmarkCopy64MiBStdlib is the baseline: io.CopyN between two TCP conns,
// which the standard library itself turns into splice(2) on Linux.
func BenchmarkCopy64MiBStdlib(b *testing.B) {
	benchMove(b, func(dst, src *net.TCPConn, n int64) (int64, error) {
		return io.CopyN(dst, src, n)
	})
}
