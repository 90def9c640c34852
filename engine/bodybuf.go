package engine

import (
	"syscall"

	"github.com/mizuchi-gw/mizuchi/pipes"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// A detached body is pumped through a pipe (splice) or a copy buffer. Both
// are taken before the upstream head is written and before 100 Continue,
// so a request that gets neither is refused without reading its body.

// errBufferBusy: no pipe and no room in the buffer budget.
var errBufferBusy = &s3Error{"SlowDown", 503, "The gateway's buffer budget is exhausted. Please retry."}

// bodyBuf is what one detached body moves through: pp for splice (src is
// the client socket's raw conn), else bufp, a copy buffer whose copyBufSize
// bytes are reserved from the budget.
type bodyBuf struct {
	pp   *pipes.Pipe
	src  syscall.RawConn
	bufp *[]byte
}

// takeBodyBuf returns a pipe when the body can be spliced and the pool has
// one, else a copy buffer reserved from the budget; ok is false when there
// is neither. A pipe pool without a free pipe is counted. Pair with
// putBodyBuf.
func (ex *exchange) takeBodyBuf(tcp clientConn, up *upstream.Conn) (bb bodyBuf, ok bool) {
	s := ex.s
	if !ex.streaming && s.cfg.ZeroCopy && up.Raw != nil {
		if src := tcpRaw(tcp); src != nil {
			p, err := s.cfg.Pipes.Acquire()
			if err == nil {
				return bodyBuf{pp: p, src: src}, true
			}
			pipePoolExhausted.Inc()
		}
	}
	if !s.budget.TryAcquire(copyBufSize) {
		return bodyBuf{}, false
	}
	return bodyBuf{bufp: s.copyBufs.Get().(*[]byte)}, true
}

// putBodyBuf gives back what takeBodyBuf returned.
func (ex *exchange) putBodyBuf(bb bodyBuf) {
	s := ex.s
	if bb.pp != nil {
		s.cfg.Pipes.Release(bb.pp)
	}
	if bb.bufp != nil {
		s.copyBufs.Put(bb.bufp)
		s.budget.Release(copyBufSize)
	}
}
