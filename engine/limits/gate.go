package limits

import "sync/atomic"

// Gate counts holders of a capped resource (in-flight uploads of the
// process). Safe for concurrent use.
type Gate struct{ n atomic.Int64 }

// Acquire takes a place unless max (> 0) are taken; max <= 0 always
// succeeds (the place is still counted, for the gauge).
func (g *Gate) Acquire(max int64) bool {
	for {
		n := g.n.Load()
		if max > 0 && n >= max {
			return false
		}
		if g.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Release gives a place back.
func (g *Gate) Release() { g.n.Add(-1) }

// Count returns the places taken.
func (g *Gate) Count() int64 { return g.n.Load() }

// Slot is one in-flight upload: a place in the process Gate and, when the
// per-identity cap is on, in its identity's count. The zero Slot holds
// nothing. Release is idempotent. A Slot is owned by one goroutine at a
// time (the connection's loop, then the worker of its exchange).
type Slot struct {
	g *Gate
	e *Entry
	s *Identities
}

// Held reports whether the slot holds a place.
func (s *Slot) Held() bool { return s.g != nil }

// Release gives the slot's places back.
func (s *Slot) Release() {
	if s.g == nil {
		return
	}
	s.g.Release()
	if s.e != nil {
		s.s.releaseInflight(s.e)
	}
	*s = Slot{}
}

// Take moves the slot out of s, leaving it empty.
func (s *Slot) Take() Slot {
	t := *s
	*s = Slot{}
	return t
}
