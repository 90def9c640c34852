package engine

import (
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// memBudget accounts for the body bytes the gateway holds in user space:
// auto-multipart part buffers and copy-path pump buffers. It is a counter,
// not an allocator: a caller reserves n bytes with TryAcquire before it
// takes a buffer and gives them back with Release when the buffer is no
// longer used. TryAcquire never waits, so it is safe on an event loop and a
// holder can never deadlock on it. Both are lock-free and allocation-free.
//
// Invariant: every TryAcquire that returned true is matched by exactly one
// Release of the same n, on every path (errors included); inUse never
// exceeds size.
type memBudget struct {
	size  int64
	inUse atomic.Int64
}

// defaultBufferBudget is the budget when Config.BufferBudget is 0.
const defaultBufferBudget = 256 << 20

// copyBufSize is the size of one copy-path pump buffer (Server.copyBufs).
const copyBufSize = 256 << 10

func newMemBudget(size int64) *memBudget {
	if size <= 0 {
		size = defaultBufferBudget
	}
	return &memBudget{size: size}
}

// TryAcquire reserves n bytes and reports whether they fit; on false
// nothing is reserved and the refusal is counted.
func (b *memBudget) TryAcquire(n int64) bool {
	for {
		cur := b.inUse.Load()
		if cur+n > b.size || n < 0 {
			budgetRefusals.Inc()
			return false
		}
		if b.inUse.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// Release returns n bytes reserved by a successful TryAcquire.
func (b *memBudget) Release(n int64) {
	if b.inUse.Add(-n) < 0 {
		panic("engine: buffer budget released more than was acquired")
	}
}

// InUse returns the bytes reserved now.
func (b *memBudget) InUse() int64 { return b.inUse.Load() }

// Size returns the configured budget.
func (b *memBudget) Size() int64 { return b.size }

// liveBudget is the budget of the most recently created Server, for the
// gauges (one gateway runs one Server).
var liveBudget atomic.Pointer[memBudget]

var (
	budgetRefusals = metrics.NewCounter(`mizuchi_buffer_budget_refusals_total`)
	// the copy path was taken because the pipe pool had no pipe
	pipePoolExhausted = metrics.NewCounter(`mizuchi_pipe_pool_exhausted_total`)
)

func init() {
	metrics.NewGauge(`mizuchi_buffer_budget_bytes`, func() float64 {
		if b := liveBudget.Load(); b != nil {
			return float64(b.Size())
		}
		return 0
	})
	metrics.NewGauge(`mizuchi_buffer_budget_in_use_bytes`, func() float64 {
		if b := liveBudget.Load(); b != nil {
			return float64(b.InUse())
		}
		return 0
	})
}

// errPartOverBudget: the declared length needs parts larger than the whole
// buffer budget (10,000 parts at most), so the upload could never run.
var errPartOverBudget = &s3Error{"EntityTooLarge", 400, "Your proposed upload needs parts larger than the gateway's buffer budget."}

// reserveParts reserves the memory of one auto-multipart upload up front,
// before 100 Continue: Concurrent+1 part buffers, or fewer (at least one)
// when the whole budget holds fewer, plus the read buffers of a chunked
// body. An upload never waits for budget once admitted, so holders cannot
// deadlock. It returns the number of part buffers and the bytes to Release.
func (s *Server) reserveParts(u *UploadConfig, partSize int64, chunked bool) (bufs int, held int64, e *s3Error) {
	extra := int64(0)
	if chunked {
		extra = 2 * copyBufSize // bodySource.raw and .dec
	}
	if partSize+extra > s.budget.Size() {
		return 0, 0, errPartOverBudget
	}
	bufs = int(min(int64(u.concurrent()+1), (s.budget.Size()-extra)/partSize))
	held = int64(bufs)*partSize + extra
	if !s.budget.TryAcquire(held) {
		return 0, 0, errBufferBusy
	}
	return bufs, held, nil
}
