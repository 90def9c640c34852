package pipes

import (
	"sync"
	"sync/atomic"
)

// Zero-value defaults of Config.
const (
	DefaultPipeSize = 1 << 20
	DefaultMax      = 256
	DefaultMaxFree  = 64
)

// Config configures a Pool. Zero values select the defaults.
type Config struct {
	// PipeSize is the capacity asked for with F_SETPIPE_SZ, in bytes; 0 means
	// DefaultPipeSize (1 MiB). The kernel rounds it up to a power of two pages.
	// If the kernel refuses it (EPERM: above fs.pipe-max-size without
	// CAP_SYS_RESOURCE, or over fs.pipe-user-pages-soft), the pool halves the
	// request until it is granted and asks for that size from then on;
	// Pool.PipeSize reports it.
	PipeSize int

	// Max caps the pipes alive (in use plus free); 0 means DefaultMax (256).
	Max int

	// MaxFree caps the free list; 0 means DefaultMaxFree (64). Pipes released
	// while the free list is full are closed.
	MaxFree int
}

// Pipe is a pipe pair owned by one transfer at a time, between Pool.Acquire
// and Pool.Release. It is not safe for concurrent use.
type Pipe struct {
	r, w int // read and write ends, O_NONBLOCK|O_CLOEXEC
	size int // capacity granted by the kernel
	data int // bytes inside the pipe; changed only by Splice
	pump     // per-pipe pump state, so that Splice does not allocate
}

// Size returns the capacity the kernel granted for this pipe.
func (pp *Pipe) Size() int { return pp.size }

// Pool hands out pipes. It keeps a capped free list, never reuses a pipe that
// still holds data, and counts pipes in use and free for gauges. It is safe
// for concurrent use; create it with NewPool.
type Pool struct {
	mu      sync.Mutex
	free    []*Pipe // capacity maxFree, never grows: Release does not allocate
	inUse   int
	alive   int // inUse + len(free) + pipes being created
	size    int // size to ask for; lowered to what the kernel granted after a refusal
	max     int
	maxFree int
	closed  bool
	nfree   atomic.Int64 // len(free), read without the lock (Free)
}

// NewPool returns a pool configured by cfg. It makes one pipe to learn the
// size the kernel grants (see PipeSize) and keeps it on the free list; where
// pipes cannot be made, the pool is still returned and Acquire reports why.
func NewPool(cfg Config) *Pool {
	size := cfg.PipeSize
	if size <= 0 {
		size = DefaultPipeSize
	}
	max := cfg.Max
	if max <= 0 {
		max = DefaultMax
	}
	maxFree := cfg.MaxFree
	if maxFree <= 0 {
		maxFree = DefaultMaxFree
	}
	if maxFree > max {
		maxFree = max
	}
	p := &Pool{
		free:    make([]*Pipe, 0, maxFree),
		size:    size,
		max:     max,
		maxFree: maxFree,
	}
	if pp, err := p.Acquire(); err == nil {
		p.Release(pp)
	}
	return p
}

// Acquire returns an empty pipe: from the free list, or a new one made with
// pipe2(O_NONBLOCK|O_CLOEXEC) and F_SETPIPE_SZ. It returns ErrPoolExhausted
// when Max pipes are alive and none is free, ErrPoolClosed after Close, and
// ErrUnsupported on platforms without splice. Every pipe it returns must be
// handed back to Release exactly once.
func (p *Pool) Acquire() (*Pipe, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrPoolClosed
	}
	if n := len(p.free); n > 0 {
		pp := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.nfree.Add(-1)
		p.inUse++
		p.mu.Unlock()
		return pp, nil
	}
	if p.alive >= p.max {
		p.mu.Unlock()
		return nil, ErrPoolExhausted
	}
	// Reserve the slot, then make the pipe outside the lock: it costs
	// syscalls, and other callers may meanwhile take or return free pipes.
	p.alive++
	p.inUse++
	size := p.size
	p.mu.Unlock()

	pp, err := newPipe(size)

	p.mu.Lock()
	if err != nil {
		p.alive--
		p.inUse--
		p.mu.Unlock()
		return nil, err
	}
	if size == p.size || pp.size < p.size {
		// Remember what the kernel made of the request: rounded up to a power
		// of two pages, or, after a refusal, the largest size it granted.
		p.size = pp.size
	}
	p.mu.Unlock()
	return pp, nil
}

// Release gives pp back. A pipe that still holds data (a transfer failed
// between filling and draining it) is closed, never reused: its bytes belong
// to another request. An empty pipe goes back to the free list unless the list
// is full or the pool is closed; then it is closed. Release of nil is a no-op.
//
// Emptiness is checked twice: by the count Splice keeps and by asking the
// kernel (FIONREAD, spelled TIOCINQ in x/sys), which costs one syscall and does not depend on the
// bookkeeping being right.
func (p *Pool) Release(pp *Pipe) {
	if pp == nil {
		return
	}
	reuse := pp.data == 0 && !pipeHasData(pp)
	p.mu.Lock()
	p.inUse--
	if reuse && !p.closed && len(p.free) < p.maxFree {
		p.free = append(p.free, pp)
		p.nfree.Add(1)
		p.mu.Unlock()
		return
	}
	p.alive--
	p.mu.Unlock()
	closePipe(pp)
}

// InUse returns the number of pipes acquired and not yet released.
func (p *Pool) InUse() int {
	p.mu.Lock()
	n := p.inUse
	p.mu.Unlock()
	return n
}

// Free returns the number of pipes on the free list. It takes no lock
// (an atomic load), so it may be read on hot paths.
func (p *Pool) Free() int {
	return int(p.nfree.Load())
}

// PipeSize returns the capacity new pipes get: Config.PipeSize as rounded by
// the kernel once a pipe has been made, or the largest size the kernel granted
// after refusing it.
func (p *Pool) PipeSize() int {
	p.mu.Lock()
	n := p.size
	p.mu.Unlock()
	return n
}

// Close closes the free pipes and makes later Acquire calls fail with
// ErrPoolClosed. Pipes in use stay valid and are closed by Release.
func (p *Pool) Close() {
	p.mu.Lock()
	free := p.free
	p.free = nil
	p.alive -= len(free)
	p.nfree.Add(-int64(len(free)))
	p.closed = true
	p.mu.Unlock()
	for _, pp := range free {
		closePipe(pp)
	}
}
