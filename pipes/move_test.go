package pipes

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// mover moves exactly n bytes from src to dst: Splice or Copy, so that both
// run the same contract tests.
type mover func(dst, src *net.TCPConn, n int64) (int64, error)

func copyMover(dst, src *net.TCPConn, n int64) (int64, error) {
	return Copy(dst, src, n, make([]byte, 256<<10))
}

// testMoveSuccess moves bodies of several sizes over loopback, with bytes
// after the body that must stay unread in the source socket.
func testMoveSuccess(t *testing.T, mv mover) {
	f := func(n int64, extra int, slow bool) {
		t.Helper()
		srcPeer, src := tcpPair(t)
		dst, dstPeer := tcpPair(t)
		if slow {
			// Small buffers on the destination, so that it pushes back often.
			dst.SetWriteBuffer(16 << 10)
			dstPeer.SetReadBuffer(32 << 10)
		}
		type written struct {
			sum [32]byte
			err error
		}
		wch := make(chan written, 1)
		go func() {
			sum, err := writeBody(srcPeer, n)
			if err == nil {
				_, err = srcPeer.Write(trailer(extra))
			}
			wch <- written{sum, err}
		}()
		rch := readAll(dstPeer, slow)

		got, err := mv(dst, src, n)
		if err != nil {
			t.Fatalf("n=%d: unexpected error: %s", n, err)
		}
		if got != n {
			t.Fatalf("n=%d: unexpected count; got %d; want %d", n, got, n)
		}
		if err := dst.CloseWrite(); err != nil {
			t.Fatalf("cannot close the destination for writing: %s", err)
		}
		w := <-wch
		if w.err != nil {
			t.Fatalf("n=%d: writer failed: %s", n, w.err)
		}
		r := <-rch
		if r.err != nil {
			t.Fatalf("n=%d: reader failed: %s", n, r.err)
		}
		if r.n != n {
			t.Fatalf("n=%d: unexpected bytes received; got %d; want %d", n, r.n, n)
		}
		if r.sum != w.sum {
			t.Fatalf("n=%d: unexpected body hash; got %x; want %x", n, r.sum, w.sum)
		}

		// The bytes after the body are still in the source socket, all of them.
		srcPeer.CloseWrite()
		src.SetReadDeadline(time.Now().Add(5 * time.Second))
		rest, err := io.ReadAll(src)
		if err != nil {
			t.Fatalf("n=%d: cannot read the bytes after the body: %s", n, err)
		}
		if want := trailer(extra); !bytes.Equal(rest, want) {
			t.Fatalf("n=%d: unexpected bytes after the body; got %d bytes %.40q; want %d bytes %.40q", n, len(rest), rest, len(want), want)
		}
	}
	f(0, 0, false)
	f(0, 100, false)
	f(1, 0, false)
	f(1, 1, false)
	f(4093, 7, false)
	f(1<<20, 1000, false)
	f(1<<20+1, 64<<10, false)
	f(64<<20, 12345, false)
	f(2<<20, 100, true)
}

// testMoveFailure checks that each failure comes back as a *SideError naming
// the side that failed.
func testMoveFailure(t *testing.T, mv mover) {
	type setup struct {
		name string
		n    int64
		// feed writes into the source peer; it runs in its own goroutine.
		feed func(srcPeer *net.TCPConn)
		// prepare runs before the move; break_ runs while it runs, 500ms after
		// feed returned (or after 300ms if feed blocks).
		prepare func(dst, dstPeer, src *net.TCPConn)
		break_  func(dst, dstPeer, src *net.TCPConn)
		// noReader leaves the destination peer unread.
		noReader bool
	}
	f := func(s setup, wantSrc bool, wantErr error, wantCount int64) {
		t.Helper()
		srcPeer, src := tcpPair(t)
		dst, dstPeer := tcpPair(t)
		fed := make(chan struct{})
		go func() {
			s.feed(srcPeer)
			close(fed)
		}()
		var rch <-chan received
		if s.prepare != nil {
			s.prepare(dst, dstPeer, src)
		}
		if !s.noReader {
			rch = readAll(dstPeer, false)
		}
		if s.break_ != nil {
			go func() {
				select {
				case <-fed:
				case <-time.After(300 * time.Millisecond): // a feeder that blocks
				}
				// Room for the mover to drain what was fed, even on a busy
				// machine (100ms was not enough under a loaded make test).
				time.Sleep(500 * time.Millisecond)
				s.break_(dst, dstPeer, src)
			}()
		}
		start := time.Now()
		got, err := mv(dst, src, s.n)
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("%s: took %s", s.name, took)
		}
		var se *SideError
		if !errors.As(err, &se) {
			t.Fatalf("%s: unexpected error; got %v (%T); want *SideError", s.name, err, err)
		}
		if se.Src != wantSrc {
			t.Fatalf("%s: unexpected side; got Src=%v; want Src=%v (%s)", s.name, se.Src, wantSrc, err)
		}
		if wantErr != nil && !errors.Is(err, wantErr) {
			t.Fatalf("%s: unexpected error; got %q; want it to wrap %q", s.name, err, wantErr)
		}
		if wantCount >= 0 && got != wantCount {
			t.Fatalf("%s: unexpected count; got %d; want %d", s.name, got, wantCount)
		}
		// Unblock the feeder and the reader.
		src.Close()
		dst.Close()
		if rch != nil {
			if r := <-rch; wantCount >= 0 && r.err == nil && r.n != got {
				t.Fatalf("%s: unexpected bytes received; got %d; want %d", s.name, r.n, got)
			}
		}
	}
	half := func(n int64, close bool) func(*net.TCPConn) {
		return func(c *net.TCPConn) {
			writeBody(c, n)
			if close {
				c.CloseWrite()
			}
		}
	}
	const n = 8 << 20

	// The client hangs up mid-body.
	f(setup{name: "src EOF", n: n, feed: half(n/2, true)}, true, ErrShortBody, n/2)
	f(setup{name: "src EOF at once", n: n, feed: half(0, true)}, true, ErrShortBody, 0)
	f(setup{name: "src EOF one byte short", n: 1 << 20, feed: half(1<<20-1, true)}, true, ErrShortBody, 1<<20-1)

	// The client stalls past the read deadline.
	f(setup{name: "src read deadline", n: n, feed: half(n/2, false),
		break_: func(dst, dstPeer, src *net.TCPConn) {
			src.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		}}, true, os.ErrDeadlineExceeded, n/2)

	// The engine aborts the transfer by closing the client conn.
	f(setup{name: "src closed locally", n: n, feed: half(n/2, false),
		break_: func(dst, dstPeer, src *net.TCPConn) { src.Close() }}, true, net.ErrClosed, n/2)

	// The upstream hung up before the body.
	f(setup{name: "dst peer closed", n: n, feed: half(n, false), noReader: true,
		prepare: func(dst, dstPeer, src *net.TCPConn) {
			dstPeer.Close()
			time.Sleep(10 * time.Millisecond) // let the FIN arrive
		}}, false, nil, -1)

	// The upstream stops reading: the write deadline fires.
	f(setup{name: "dst write deadline", n: 64 << 20, feed: half(64<<20, false), noReader: true,
		prepare: func(dst, dstPeer, src *net.TCPConn) {
			dst.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		}}, false, os.ErrDeadlineExceeded, -1)

	// The engine aborts the transfer by closing the upstream conn.
	f(setup{name: "dst closed locally", n: 64 << 20, feed: half(64<<20, false), noReader: true,
		break_: func(dst, dstPeer, src *net.TCPConn) { dst.Close() }}, false, net.ErrClosed, -1)
}
