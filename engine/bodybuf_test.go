package engine

import (
	"net"
	"testing"

	"github.com/mizuchi-gw/mizuchi/pipes"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// bodyBufFixture is a server with a pipe pool of one and a budget of two
// copy buffers, a plain TCP client socket and a plain TCP backend
// connection (so bodies could be spliced).
func bodyBufFixture(t *testing.T) (*exchange, clientConn, *upstream.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	dial := func() *net.TCPConn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("cannot dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.TCPConn)
	}
	tcp, back := dial(), dial()
	raw, err := back.SyscallConn()
	if err != nil {
		t.Fatalf("SyscallConn: %v", err)
	}
	pool := pipes.NewPool(pipes.Config{Max: 1})
	t.Cleanup(pool.Close)
	s := &Server{cfg: Config{ZeroCopy: true, Pipes: pool}, budget: newMemBudget(2 * copyBufSize)}
	s.copyBufs.New = func() any { b := make([]byte, copyBufSize); return &b }
	return &exchange{s: s}, tcp, &upstream.Conn{Conn: back, TCP: back, Raw: raw}
}

// TestBodyBuf: a pipe first, then copy buffers from the budget once the
// pool is exhausted (counted), then a refusal; everything given back.
func TestBodyBuf(t *testing.T) {
	ex, tcp, up := bodyBufFixture(t)
	s := ex.s
	exhausted0, refusals0 := pipePoolExhausted.Get(), budgetRefusals.Get()

	spliced, ok := ex.takeBodyBuf(tcp, up)
	if !ok || spliced.pp == nil || spliced.bufp != nil {
		t.Fatalf("unexpected first body buffer; got %+v, %v; want a pipe", spliced, ok)
	}
	var copies []bodyBuf
	for i := 0; i < 2; i++ {
		bb, ok := ex.takeBodyBuf(tcp, up)
		if !ok || bb.pp != nil || bb.bufp == nil || len(*bb.bufp) != copyBufSize {
			t.Fatalf("unexpected copy buffer %d; got %+v, %v; want a %d-byte buffer", i, bb, ok, copyBufSize)
		}
		copies = append(copies, bb)
	}
	if got := s.budget.InUse(); got != 2*copyBufSize {
		t.Fatalf("unexpected budget in use; got %d; want %d", got, 2*copyBufSize)
	}
	if _, ok := ex.takeBodyBuf(tcp, up); ok {
		t.Fatalf("a body buffer beyond the pipe pool and the budget was granted")
	}
	if got := pipePoolExhausted.Get() - exhausted0; got != 3 {
		t.Fatalf("unexpected mizuchi_pipe_pool_exhausted_total increase; got %d; want 3", got)
	}
	if got := budgetRefusals.Get() - refusals0; got != 1 {
		t.Fatalf("unexpected mizuchi_buffer_budget_refusals_total increase; got %d; want 1", got)
	}

	// aws-chunked bodies are decoded in user space: a copy buffer even
	// when a pipe is free.
	ex.putBodyBuf(spliced)
	ex.putBodyBuf(copies[0])
	ex.streaming = true
	dec, ok := ex.takeBodyBuf(tcp, up)
	if !ok || dec.pp != nil || dec.bufp == nil {
		t.Fatalf("unexpected body buffer for a decoded body; got %+v, %v; want a copy buffer", dec, ok)
	}
	ex.putBodyBuf(dec)
	ex.putBodyBuf(copies[1])
	if got := s.budget.InUse(); got != 0 {
		t.Fatalf("leak: budget in use %d after every release; want 0", got)
	}
	if got := s.cfg.Pipes.InUse(); got != 0 {
		t.Fatalf("leak: %d pipes in use after every release; want 0", got)
	}
}

// TestBodyBufNoSplice: zero copy off, or a TLS backend (no Raw), always
// takes a copy buffer and does not count the pipe pool as exhausted.
func TestBodyBufNoSplice(t *testing.T) {
	f := func(zeroCopy bool, tlsBackend bool) {
		t.Helper()
		ex, tcp, up := bodyBufFixture(t)
		ex.s.cfg.ZeroCopy = zeroCopy
		if tlsBackend {
			up.Raw = nil
		}
		exhausted0 := pipePoolExhausted.Get()
		bb, ok := ex.takeBodyBuf(tcp, up)
		if !ok || bb.pp != nil || bb.bufp == nil {
			t.Fatalf("unexpected body buffer; got %+v, %v; want a copy buffer", bb, ok)
		}
		if got := pipePoolExhausted.Get() - exhausted0; got != 0 {
			t.Fatalf("unexpected mizuchi_pipe_pool_exhausted_total increase; got %d; want 0", got)
		}
		ex.putBodyBuf(bb)
		if got := ex.s.budget.InUse(); got != 0 {
			t.Fatalf("leak: budget in use %d; want 0", got)
		}
	}
	f(false, false)
	f(true, true)
}
