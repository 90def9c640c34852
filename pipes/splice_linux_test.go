package pipes

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// spliceMover moves through a pipe from pool, released afterwards as the
// engine would.
func spliceMover(pool *Pool) mover {
	return func(dst, src *net.TCPConn, n int64) (int64, error) {
		pp, err := pool.Acquire()
		if err != nil {
			return 0, err
		}
		defer pool.Release(pp)
		drc, err := dst.SyscallConn()
		if err != nil {
			return 0, err
		}
		src_, err := src.SyscallConn()
		if err != nil {
			return 0, err
		}
		return Splice(drc, src_, pp, n)
	}
}

func TestSplice_Success(t *testing.T) {
	pool := NewPool(Config{})
	defer pool.Close()
	testMoveSuccess(t, spliceMover(pool))
	if n := pool.InUse(); n != 0 {
		t.Fatalf("unexpected pipes in use; got %d; want 0", n)
	}
}

func TestSplice_SmallPipe(t *testing.T) {
	// A pipe smaller than the socket buffers: many fill/drain rounds.
	pool := NewPool(Config{PipeSize: 4096})
	defer pool.Close()
	if got := pool.PipeSize(); got != 4096 {
		t.Fatalf("unexpected pipe size; got %d; want 4096", got)
	}
	testMoveSuccess(t, spliceMover(pool))
}

func TestSplice_Failure(t *testing.T) {
	pool := NewPool(Config{})
	defer pool.Close()
	testMoveFailure(t, spliceMover(pool))
	if n := pool.InUse(); n != 0 {
		t.Fatalf("unexpected pipes in use; got %d; want 0", n)
	}
}

// TestSplice_PipeKeptDataIsClosed fails the destination while the pipe is
// full, and checks that Release closes that pipe instead of reusing it.
func TestSplice_PipeKeptDataIsClosed(t *testing.T) {
	pool := NewPool(Config{MaxFree: 4})
	defer pool.Close()
	srcPeer, src := tcpPair(t)
	dst, _ := tcpPair(t) // the peer never reads
	go writeBody(srcPeer, 64<<20)
	dst.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))

	pp, err := pool.Acquire()
	if err != nil {
		t.Fatalf("cannot acquire: %s", err)
	}
	drc, _ := dst.SyscallConn()
	src_, _ := src.SyscallConn()
	_, err = Splice(drc, src_, pp, 64<<20)
	var se *SideError
	if !errors.As(err, &se) || se.Src || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("unexpected error; got %v; want a destination deadline", err)
	}
	if pp.data == 0 {
		t.Skip("the pipe happened to be empty when the deadline fired")
	}
	ids := pipeIDs(t, pp)
	free := pool.Free()
	pool.Release(pp)
	if got := pool.Free(); got != free {
		t.Fatalf("a pipe holding data went back to the free list; free %d -> %d", free, got)
	}
	checkClosed(t, ids)
	src.Close()
}

func TestSplice_NotEmpty(t *testing.T) {
	pool := NewPool(Config{})
	defer pool.Close()
	pp, err := pool.Acquire()
	if err != nil {
		t.Fatalf("cannot acquire: %s", err)
	}
	defer pool.Release(pp)
	pp.data = 1
	srcPeer, src := tcpPair(t)
	dst, _ := tcpPair(t)
	srcPeer.Write([]byte("x"))
	drc, _ := dst.SyscallConn()
	src_, _ := src.SyscallConn()
	n, err := Splice(drc, src_, pp, 1)
	if n != 0 || err != ErrPipeNotEmpty {
		t.Fatalf("unexpected result; got %d, %v; want 0, %v", n, err, ErrPipeNotEmpty)
	}
	pp.data = 0
}

// TestSplice_NoThreadPerWait runs many transfers whose sources stall mid-body
// and checks that waiting parks goroutines in the netpoller instead of
// holding OS threads: the thread count stays flat.
func TestSplice_NoThreadPerWait(t *testing.T) {
	const conns = 64
	pool := NewPool(Config{PipeSize: 64 << 10, Max: conns})
	defer pool.Close()
	mv := spliceMover(pool)

	before := threads(t)
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	var peers []*net.TCPConn
	received := make(chan int64, conns)
	for i := 0; i < conns; i++ {
		srcPeer, src := tcpPair(t)
		dst, dstPeer := tcpPair(t)
		peers = append(peers, srcPeer)
		go func() { // half the body, then a stall
			writeBody(srcPeer, 64<<10)
		}()
		go func() {
			buf := make([]byte, 64<<10)
			var got int64
			for got < 64<<10 {
				m, err := dstPeer.Read(buf)
				got += int64(m)
				if err != nil {
					break
				}
			}
			received <- got
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := mv(dst, src, 128<<10)
			errs <- err
		}()
	}
	// Every transfer has moved its first half and now waits on its source.
	for i := 0; i < conns; i++ {
		if got := <-received; got != 64<<10 {
			t.Fatalf("unexpected bytes received; got %d; want %d", got, 64<<10)
		}
	}
	time.Sleep(100 * time.Millisecond)
	during := threads(t)
	if inUse := pool.InUse(); inUse != conns {
		t.Fatalf("unexpected pipes in use; got %d; want %d", inUse, conns)
	}
	// A thread per waiting transfer would add 64.
	if during > before+conns/4 {
		t.Fatalf("threads grew while %d transfers wait; before %d; during %d", conns, before, during)
	}
	for _, c := range peers {
		c.CloseWrite()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrShortBody) {
			t.Fatalf("unexpected error; got %v; want %v", err, ErrShortBody)
		}
	}
	t.Logf("OS threads: %d before, %d with %d transfers waiting", before, during, conns)
}

// threads returns the number of OS threads of this process.
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatalf("cannot read /proc/self/status: %s", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("cannot parse %q: %s", line, err)
			}
			return n
		}
	}
	t.Fatalf("no Threads line in /proc/self/status")
	return 0
}
