package upstream

import (
	"context"
	"net"
	"testing"
)

// The pool's open and idle counts, and the process's IdleConns, follow its connections through Get, Put,
// Close, Abort and CloseIdle; a connection closed twice is counted once.
func TestPoolCounts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open until the listener closes
		}
	}()
	p := NewPool(ln.Addr().String(), nil, PoolConfig{MaxIdle: 1})
	ctx := context.Background()
	idle0 := IdleConns() // the process's idle connections (other pools)
	check := func(step string, open, idle int64) {
		t.Helper()
		if p.Open() != open || int64(p.Idle()) != idle {
			t.Fatalf("%s: open %d idle %d; want %d %d", step, p.Open(), p.Idle(), open, idle)
		}
		if got := IdleConns() - idle0; got != idle {
			t.Fatalf("%s: IdleConns counts %d of this pool; want %d", step, got, idle)
		}
	}
	get := func() *Conn {
		t.Helper()
		c, err := p.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := get()
	check("one in use", 1, 0)
	b := get()
	check("two in use", 2, 0)
	p.Put(a)
	check("one back", 2, 1)
	p.Put(b) // beyond MaxIdle: closed
	check("a second back beyond MaxIdle", 1, 1)
	a = get()
	if !a.Reused {
		t.Fatalf("the idle connection was not reused")
	}
	check("reused", 1, 0)
	a.Close()
	a.Close()
	check("closed twice", 0, 0)
	a = get()
	a.Abort()
	a.Close()
	check("aborted, then closed", 0, 0)
	p.Put(get())
	check("pooled", 1, 1)
	p.CloseIdle()
	check("idle closed", 0, 0)
}
