package pipes

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// fdID names an open fd by number and inode, so that a check for "closed"
// is not fooled by the number being reused.
type fdID struct {
	fd  int
	ino uint64
}

func pipeIDs(t *testing.T, pp *Pipe) []fdID {
	t.Helper()
	var ids []fdID
	for _, fd := range []int{pp.r, pp.w} {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatalf("cannot stat pipe fd %d: %s", fd, err)
		}
		ids = append(ids, fdID{fd, st.Ino})
	}
	return ids
}

func checkClosed(t *testing.T, ids []fdID) {
	t.Helper()
	for _, id := range ids {
		var st unix.Stat_t
		if err := unix.Fstat(id.fd, &st); err == nil && st.Ino == id.ino {
			t.Fatalf("pipe fd %d is still open", id.fd)
		}
	}
}

func checkCounts(t *testing.T, p *Pool, inUse, free int) {
	t.Helper()
	if got := p.InUse(); got != inUse {
		t.Fatalf("unexpected InUse; got %d; want %d", got, inUse)
	}
	if got := p.Free(); got != free {
		t.Fatalf("unexpected Free; got %d; want %d", got, free)
	}
}

func mustAcquire(t *testing.T, p *Pool) *Pipe {
	t.Helper()
	pp, err := p.Acquire()
	if err != nil {
		t.Fatalf("cannot acquire: %s", err)
	}
	return pp
}

func TestPool_Reuse(t *testing.T) {
	p := NewPool(Config{Max: 4, MaxFree: 2})
	defer p.Close()
	checkCounts(t, p, 0, 1) // NewPool's probe pipe

	a := mustAcquire(t, p)
	checkCounts(t, p, 1, 0)
	p.Release(a)
	checkCounts(t, p, 0, 1)
	b := mustAcquire(t, p)
	if a != b {
		t.Fatalf("an empty released pipe was not reused")
	}
	c := mustAcquire(t, p)
	if c == b {
		t.Fatalf("one pipe handed out twice")
	}
	checkCounts(t, p, 2, 0)
	p.Release(b)
	p.Release(c)
	checkCounts(t, p, 0, 2)
	p.Release(nil)
	checkCounts(t, p, 0, 2)
}

func TestPool_Exhausted(t *testing.T) {
	p := NewPool(Config{Max: 3})
	defer p.Close()
	var pps []*Pipe
	for i := 0; i < 3; i++ {
		pps = append(pps, mustAcquire(t, p))
	}
	checkCounts(t, p, 3, 0)
	if _, err := p.Acquire(); err != ErrPoolExhausted {
		t.Fatalf("unexpected error; got %v; want %v", err, ErrPoolExhausted)
	}
	checkCounts(t, p, 3, 0)
	p.Release(pps[0])
	pps[0] = mustAcquire(t, p)
	for _, pp := range pps {
		p.Release(pp)
	}
	checkCounts(t, p, 0, 3)
}

func TestPool_FreeListCapped(t *testing.T) {
	p := NewPool(Config{Max: 4, MaxFree: 2})
	defer p.Close()
	var pps []*Pipe
	var ids [][]fdID
	for i := 0; i < 4; i++ {
		pp := mustAcquire(t, p)
		pps = append(pps, pp)
		ids = append(ids, pipeIDs(t, pp))
	}
	for _, pp := range pps {
		p.Release(pp)
	}
	checkCounts(t, p, 0, 2)
	// The first two released are kept, the others closed.
	checkClosed(t, ids[2])
	checkClosed(t, ids[3])
	// Closed pipes left room: four can be alive again.
	for i := range pps {
		pps[i] = mustAcquire(t, p)
	}
	checkCounts(t, p, 4, 0)
	for _, pp := range pps {
		p.Release(pp)
	}
}

func TestPool_DataIsNeverReused(t *testing.T) {
	p := NewPool(Config{})
	defer p.Close()
	pp := mustAcquire(t, p)
	checkCounts(t, p, 1, 0)
	// A byte the pool's bookkeeping does not know about: the kernel check
	// must catch it.
	if _, err := unix.Write(pp.w, []byte{1}); err != nil {
		t.Fatalf("cannot write into the pipe: %s", err)
	}
	ids := pipeIDs(t, pp)
	p.Release(pp)
	checkCounts(t, p, 0, 0)
	checkClosed(t, ids)

	// Same with the byte count Splice keeps.
	pp = mustAcquire(t, p)
	unix.Write(pp.w, []byte{1})
	pp.data = 1
	ids = pipeIDs(t, pp)
	p.Release(pp)
	checkCounts(t, p, 0, 0)
	checkClosed(t, ids)
}

func TestPool_PipeSize(t *testing.T) {
	f := func(size, want int) {
		t.Helper()
		p := NewPool(Config{PipeSize: size})
		defer p.Close()
		if got := p.PipeSize(); got != want {
			t.Fatalf("PipeSize(%d): unexpected size; got %d; want %d", size, got, want)
		}
		pp := mustAcquire(t, p)
		defer p.Release(pp)
		got, err := unix.FcntlInt(uintptr(pp.w), unix.F_GETPIPE_SZ, 0)
		if err != nil {
			t.Fatalf("cannot get pipe size: %s", err)
		}
		if got != want || pp.Size() != want {
			t.Fatalf("PipeSize(%d): unexpected kernel size; got %d (Size %d); want %d", size, got, pp.Size(), want)
		}
	}
	page := os.Getpagesize()
	maxSize := pipeMaxSize(t)
	f(0, min(DefaultPipeSize, maxSize))
	f(256<<10, 256<<10)
	f(100000, 128<<10) // rounded up to a power of two pages
	f(page, page)      // smaller than the default pipe
	f(1, page)
}

// TestPool_PipeSizeFallback asks for more than fs.pipe-max-size without
// CAP_SYS_RESOURCE: the kernel answers EPERM and the pool falls back to the
// largest size it grants, then asks for that size from then on.
func TestPool_PipeSizeFallback(t *testing.T) {
	maxSize := pipeMaxSize(t)
	want := 4 * maxSize
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Capabilities are per thread: drop CAP_SYS_RESOURCE on a locked
		// thread that is never unlocked, so it dies with this goroutine.
		runtime.LockOSThread()
		if err := dropCapSysResource(); err != nil {
			t.Errorf("cannot drop CAP_SYS_RESOURCE: %s", err)
			return
		}
		p := NewPool(Config{PipeSize: want})
		defer p.Close()
		if got := p.PipeSize(); got != maxSize {
			t.Errorf("unexpected PipeSize; got %d; want the fallback %d", got, maxSize)
			return
		}
		a, err := p.Acquire()
		if err != nil {
			t.Errorf("cannot acquire: %s", err)
			return
		}
		b, err := p.Acquire() // a new pipe, made at the remembered size
		if err != nil {
			t.Errorf("cannot acquire: %s", err)
			return
		}
		if a.Size() != maxSize || b.Size() != maxSize {
			t.Errorf("unexpected pipe sizes; got %d and %d; want %d", a.Size(), b.Size(), maxSize)
		}
		p.Release(a)
		p.Release(b)
	}()
	<-done
}

func dropCapSysResource() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[unix.CAP_SYS_RESOURCE/32].Effective &^= 1 << (unix.CAP_SYS_RESOURCE % 32)
	return unix.Capset(&hdr, &data[0])
}

func pipeMaxSize(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	if err != nil {
		t.Skipf("cannot read pipe-max-size: %s", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("cannot parse pipe-max-size %q: %s", b, err)
	}
	return n
}

func TestPool_Close(t *testing.T) {
	p := NewPool(Config{})
	a := mustAcquire(t, p)
	b := mustAcquire(t, p)
	p.Release(b)
	freeIDs := pipeIDs(t, b)
	p.Close()
	checkCounts(t, p, 1, 0)
	checkClosed(t, freeIDs)
	if _, err := p.Acquire(); err != ErrPoolClosed {
		t.Fatalf("unexpected error; got %v; want %v", err, ErrPoolClosed)
	}
	ids := pipeIDs(t, a)
	p.Release(a)
	checkCounts(t, p, 0, 0)
	checkClosed(t, ids)
}

func TestPool_Concurrent(t *testing.T) {
	const max = 8
	p := NewPool(Config{PipeSize: 64 << 10, Max: max, MaxFree: 4})
	defer p.Close()
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				pp, err := p.Acquire()
				if errors.Is(err, ErrPoolExhausted) {
					continue
				}
				if err != nil {
					t.Errorf("cannot acquire: %s", err)
					return
				}
				if n := p.InUse(); n > max {
					t.Errorf("more pipes in use than Max; got %d", n)
				}
				if i%7 == 0 {
					unix.Write(pp.w, []byte{1}) // some come back dirty
				}
				p.Release(pp)
			}
		}()
	}
	wg.Wait()
	if n := p.InUse(); n != 0 {
		t.Fatalf("unexpected InUse; got %d; want 0", n)
	}
	if n := p.Free(); n > 4 {
		t.Fatalf("free list above MaxFree; got %d", n)
	}
	p.mu.Lock()
	alive := p.alive
	p.mu.Unlock()
	if alive != p.Free() {
		t.Fatalf("unexpected alive count; got %d; want %d", alive, p.Free())
	}
}
