package limits

import (
	"net/netip"
	"strconv"
	"testing"
	"time"
)

const sec = int64(time.Second)

func TestTokenBucket(t *testing.T) {
	var b TokenBucket
	t0 := int64(1_000_000) * sec
	take := func(at int64, want bool, wantWait int64) {
		t.Helper()
		ok, wait := b.Take(at, 2, 3)
		if ok != want || wait != wantWait {
			t.Fatalf("Take at +%dms; got %v, wait %d; want %v, wait %d", (at-t0)/1e6, ok, wait, want, wantWait)
		}
	}
	// A new bucket is full: the burst passes, the next waits half a second.
	take(t0, true, 0)
	take(t0, true, 0)
	take(t0, true, 0)
	take(t0, false, sec/2)
	take(t0+sec/4, false, sec/4)
	take(t0+sec/2, true, 0)
	take(t0+sec/2, false, sec/2)
	// Idle long enough, it is full again, never more than the burst.
	take(t0+100*sec, true, 0)
	take(t0+100*sec, true, 0)
	take(t0+100*sec, true, 0)
	take(t0+100*sec, false, sec/2)
	// The clock going backwards refills nothing.
	take(t0+50*sec, false, sec/2)
}

func TestWindow(t *testing.T) {
	f := func(name string, steps [][2]int64, want []bool) {
		t.Helper()
		var w Window
		w.Reset(100, sec) // 100 bytes in every second of waiting
		for i, s := range steps {
			if got := w.Add(s[0], s[1]); got != want[i] {
				t.Fatalf("%s: step %d (%d bytes after %dms); got %v; want %v", name, i, s[0], s[1]/1e6, got, want[i])
			}
		}
	}
	f("fast", [][2]int64{{60, sec / 2}, {60, sec / 2}, {100, sec}}, []bool{true, true, true})
	f("slow", [][2]int64{{50, sec / 2}, {40, sec / 2}}, []bool{true, false})
	f("silent", [][2]int64{{0, sec}}, []bool{false})
	// A good window does not excuse the next one.
	f("good then slow", [][2]int64{{500, sec}, {0, sec * 9 / 10}, {10, sec / 10}}, []bool{true, true, false})
	// Time between reads (the worker writing upstream) is not counted.
	f("bursts", [][2]int64{{100, sec / 10}, {0, sec / 2}, {1, sec / 2}}, []bool{true, true, true})

	var w Window
	w.Reset(0, sec)
	if !w.Add(0, 100*sec) {
		t.Fatalf("a window without a minimum rate failed")
	}
	w.Reset(100, 10*sec)
	if got := w.Left(); got != 10*sec {
		t.Fatalf("unexpected Left of a new window; got %d; want %d", got, 10*sec)
	}
	w.Add(10, 4*sec)
	if got := w.Left(); got != 6*sec {
		t.Fatalf("unexpected Left; got %d; want %d", got, 6*sec)
	}
}

func TestIPCounter(t *testing.T) {
	var c IPCounter
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("2001:db8::1")
	for i := 0; i < 3; i++ {
		if !c.Admit(a, 3) {
			t.Fatalf("connection %d of 3 refused", i+1)
		}
	}
	if c.Admit(a, 3) {
		t.Fatalf("fourth connection admitted; want refused at 3")
	}
	if !c.Admit(b, 3) {
		t.Fatalf("another IP refused")
	}
	c.Release(a)
	if !c.Admit(a, 3) {
		t.Fatalf("connection refused after one was released")
	}
	// No cap: admitted and still counted, so a later cap sees it.
	if !c.Admit(a, 0) || c.Count(a) != 4 {
		t.Fatalf("uncapped admission; got count %d; want 4", c.Count(a))
	}
	for i := 0; i < 4; i++ {
		c.Release(a)
	}
	c.Release(b)
	if c.Count(a) != 0 || c.Count(b) != 0 {
		t.Fatalf("counts left after release: %d, %d", c.Count(a), c.Count(b))
	}
	for i := range c.shards {
		if n := len(c.shards[i].m); n != 0 {
			t.Fatalf("shard %d keeps %d entries after all connections closed", i, n)
		}
	}
}

func TestAcquire(t *testing.T) {
	var ids Identities
	var g Gate
	alice := Key{"sigv4", "alice"}
	bob := Key{"jwt", "bob"}
	acquire := func(k Key, max, perID int64, want int) Slot {
		t.Helper()
		s, refused := ids.Acquire(&g, max, k, perID, sec)
		if refused != want {
			t.Fatalf("Acquire(%v, max %d, per identity %d); got refusal %d; want %d", k, max, perID, refused, want)
		}
		return s
	}
	s1 := acquire(alice, 3, 2, 0)
	s2 := acquire(alice, 3, 2, 0)
	acquire(alice, 3, 2, 2) // alice's two places are taken
	s3 := acquire(bob, 3, 2, 0)
	acquire(bob, 3, 2, 1) // the process's three are
	if g.Count() != 3 {
		t.Fatalf("gate count; got %d; want 3", g.Count())
	}
	s1.Release()
	s1.Release() // idempotent
	s4 := acquire(alice, 3, 2, 0)
	for _, s := range []*Slot{&s2, &s3, &s4} {
		s.Release()
	}
	if g.Count() != 0 {
		t.Fatalf("gate count after release; got %d; want 0", g.Count())
	}
	// No caps: counted, never refused.
	s := acquire(alice, 0, 0, 0)
	if !s.Held() || g.Count() != 1 {
		t.Fatalf("uncapped slot not counted")
	}
	moved := s.Take()
	if s.Held() || !moved.Held() {
		t.Fatalf("Take did not move the slot")
	}
	moved.Release()
}

func TestIdentitiesBounded(t *testing.T) {
	var ids Identities
	var g Gate
	now := sec
	// An identity with an upload in flight survives any churn.
	pinned, _ := ids.Acquire(&g, 0, Key{"sigv4", "pinned"}, 1, now)
	for i := 0; i < 3*MaxIdentities; i++ {
		ids.Allow(Key{"jwt", "user-" + strconv.Itoa(i)}, now, 1, 5)
		now += 1000
	}
	if n := ids.Len(); n > MaxIdentities {
		t.Fatalf("identities tracked; got %d; want at most %d", n, MaxIdentities)
	}
	if _, refused := ids.Acquire(&g, 0, Key{"sigv4", "pinned"}, 1, now); refused != 2 {
		t.Fatalf("the pinned identity's in-flight count was lost (refusal %d; want 2)", refused)
	}
	pinned.Release()
}

func TestIdentitiesRate(t *testing.T) {
	var ids Identities
	a, b := Key{"sigv4", "a"}, Key{"sigv4", "b"}
	for i := 0; i < 4; i++ {
		if ok, _ := ids.Allow(a, sec, 1, 4); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if ok, wait := ids.Allow(a, sec, 1, 4); ok || wait != sec {
		t.Fatalf("request past the burst; got %v, wait %d; want refused, wait 1s", ok, wait)
	}
	if ok, _ := ids.Allow(b, sec, 1, 4); !ok {
		t.Fatalf("another identity refused")
	}
}
