package authz

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy"
)

// countingEngine decides from the input's key prefix and counts its calls:
// a stand-in for an engine, to test the wrapper's caching, ordering and
// failure handling (the engines themselves are tested against real servers
// in their packages and end to end).
type countingEngine struct {
	typ   string
	calls atomic.Int64
	delay time.Duration
	gate  chan struct{} // when set, each call waits for it
	err   error
	allow string // keys with this prefix are allowed
}

func (e *countingEngine) Type() string { return e.typ }
func (e *countingEngine) Local() bool  { return false }
func (e *countingEngine) Close() error { return nil }
func (e *countingEngine) Decide(ctx context.Context, in *policy.Input, _ []byte) (policy.Decision, error) {
	e.calls.Add(1)
	if e.gate != nil {
		<-e.gate
	}
	if e.delay > 0 {
		select {
		case <-time.After(e.delay):
		case <-ctx.Done():
			return policy.Decision{}, ctx.Err()
		}
	}
	if e.err != nil {
		return policy.Decision{}, e.err
	}
	if strings.HasPrefix(in.Key, e.allow) {
		return policy.Decision{Allow: true}, nil
	}
	return policy.Decision{Reason: "key outside " + e.allow}, nil
}

func input(key string) (*policy.Input, []byte) {
	in := &policy.Input{Subject: "alice", Auth: policy.AuthSigV4, AccessKey: "AK", Action: "s3:PutObject",
		Bucket: "b", Key: key, ContentLength: 3, Method: "PUT", Path: "/b/" + key}
	return in, in.AppendJSON(nil)
}

func TestDecide_Success(t *testing.T) {
	f := func(name string, engines []*countingEngine, failOpen bool, key string, allow, unavailable bool, engine string) {
		t.Helper()
		var ecs []EngineConfig
		for _, e := range engines {
			ecs = append(ecs, EngineConfig{Engine: e, Timeout: 50 * time.Millisecond})
		}
		a, err := New("r-"+name, failOpen, ecs)
		if err != nil {
			t.Fatalf("%s: New: %v", name, err)
		}
		in, js := input(key)
		r := a.Decide(context.Background(), in, js)
		if r.Allow != allow || r.Unavailable != unavailable || r.Engine != engine {
			t.Fatalf("%s: unexpected result %+v; want allow=%v unavailable=%v engine=%q", name, r, allow, unavailable, engine)
		}
	}
	opa := func() *countingEngine { return &countingEngine{typ: "opa", allow: "alice/"} }
	fga := func() *countingEngine { return &countingEngine{typ: "openfga", allow: "alice/x"} }
	down := func() *countingEngine {
		return &countingEngine{typ: "opa_server", err: errors.New("connection refused")}
	}
	slow := func() *countingEngine { return &countingEngine{typ: "opa_server", delay: time.Second, allow: ""} }

	f("one-allow", []*countingEngine{opa()}, false, "alice/a", true, false, "")
	f("one-deny", []*countingEngine{opa()}, false, "bob/a", false, false, "opa")
	f("all-allow", []*countingEngine{opa(), fga()}, false, "alice/x1", true, false, "")
	f("second-denies", []*countingEngine{opa(), fga()}, false, "alice/y", false, false, "openfga")
	f("closed-error", []*countingEngine{down()}, false, "alice/a", false, true, "opa_server")
	f("open-error", []*countingEngine{down()}, true, "alice/a", true, false, "")
	f("open-error-then-deny", []*countingEngine{down(), opa()}, true, "bob/a", false, false, "opa")
	f("closed-timeout", []*countingEngine{slow()}, false, "alice/a", false, true, "opa_server")
	f("open-timeout", []*countingEngine{slow()}, true, "alice/a", true, false, "")
}

// TestDecide_FirstDenialStops: an engine after a denial is not asked.
func TestDecide_FirstDenialStops(t *testing.T) {
	first := &countingEngine{typ: "opa", allow: "alice/"}
	second := &countingEngine{typ: "openfga", allow: ""}
	a, _ := New("stop", false, []EngineConfig{{Engine: first}, {Engine: second}})
	in, js := input("bob/a")
	if r := a.Decide(context.Background(), in, js); r.Allow || r.Reason != "key outside alice/" {
		t.Fatalf("unexpected result %+v", r)
	}
	if n := second.calls.Load(); n != 0 {
		t.Fatalf("second engine asked %d times after a denial; want 0", n)
	}
}

// TestDecide_TimeoutBound: a stalled engine is given up on within its
// timeout.
func TestDecide_TimeoutBound(t *testing.T) {
	e := &countingEngine{typ: "opa_server", delay: time.Minute}
	a, _ := New("bound", false, []EngineConfig{{Engine: e, Timeout: 20 * time.Millisecond}})
	in, js := input("alice/a")
	start := time.Now()
	r := a.Decide(context.Background(), in, js)
	if !r.Unavailable || r.Reason != "opa_server: timeout" {
		t.Fatalf("unexpected result %+v", r)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Decide took %v with a 20ms timeout", d)
	}
}

func TestCache(t *testing.T) {
	e := &countingEngine{typ: "openfga", allow: "alice/"}
	a, _ := New("cache", false, []EngineConfig{{Engine: e, TTL: time.Hour, DenyTTL: time.Hour}})
	now := time.Now().UnixNano()
	in, js := input("alice/a")
	if _, ok := a.Cached(js, now); ok {
		t.Fatalf("empty cache has a decision")
	}
	for i := 0; i < 3; i++ {
		if r := a.Decide(context.Background(), in, js); !r.Allow {
			t.Fatalf("unexpected denial %+v", r)
		}
	}
	if n := e.calls.Load(); n != 1 {
		t.Fatalf("engine called %d times for 3 identical requests; want 1", n)
	}
	if r, ok := a.Cached(js, now); !ok || !r.Allow {
		t.Fatalf("Cached = %+v, %v; want a cached allow", r, ok)
	}
	// A denial is cached too, separately.
	in2, js2 := input("bob/a")
	a.Decide(context.Background(), in2, js2)
	if r, ok := a.Cached(js2, now); !ok || r.Allow || r.Engine != "openfga" {
		t.Fatalf("Cached = %+v, %v; want a cached denial", r, ok)
	}
	// Expired at a later time.
	if _, ok := a.Cached(js, now+int64(2*time.Hour)); ok {
		t.Fatalf("an expired entry is still a hit")
	}
	// A lookup is counted once: a Cached miss followed by its Decide is
	// one miss, a Cached hit one hit.
	eng := a.engines[0]
	misses, hits := eng.misses.Get(), eng.hits.Get()
	in4, js4 := input("alice/counted")
	if _, ok := a.Cached(js4, now); ok {
		t.Fatalf("unexpected hit")
	}
	a.Decide(context.Background(), in4, js4)
	if _, ok := a.Cached(js4, time.Now().UnixNano()); !ok {
		t.Fatalf("no hit after Decide")
	}
	if dm, dh := eng.misses.Get()-misses, eng.hits.Get()-hits; dm != 1 || dh != 1 {
		t.Fatalf("counted %d misses and %d hits for one miss and one hit", dm, dh)
	}
	// Another content length is another input.
	in3 := *in
	in3.ContentLength = 4
	js3 := in3.AppendJSON(nil)
	if _, ok := a.Cached(js3, now); ok {
		t.Fatalf("a different input hit the cache")
	}
}

// TestCache_DenyTTL: allows and denials have their own lifetimes; errors
// are never cached.
func TestCache_DenyTTL(t *testing.T) {
	e := &countingEngine{typ: "opa", allow: "alice/"}
	a, _ := New("denyttl", false, []EngineConfig{{Engine: e, TTL: time.Hour}}) // denials not cached
	in, js := input("bob/a")
	a.Decide(context.Background(), in, js)
	a.Decide(context.Background(), in, js)
	if n := e.calls.Load(); n != 2 {
		t.Fatalf("engine called %d times for 2 denials with no deny TTL; want 2", n)
	}
	bad := &countingEngine{typ: "opa_server", err: errors.New("down")}
	b, _ := New("errttl", false, []EngineConfig{{Engine: bad, TTL: time.Hour, DenyTTL: time.Hour}})
	b.Decide(context.Background(), in, js)
	b.Decide(context.Background(), in, js)
	if n := bad.calls.Load(); n != 2 {
		t.Fatalf("failing engine called %d times; want 2 (errors are not cached)", n)
	}
}

// TestCache_Bounded: the cache never holds more than its bound.
func TestCache_Bounded(t *testing.T) {
	c := newCache(64)
	now := time.Now().UnixNano()
	for i := 0; i < 10000; i++ {
		c.put(strings.Repeat("k", i%7)+string(rune('a'+i%26))+time.Duration(i).String(), policy.Decision{Allow: true}, now, now+int64(time.Hour))
	}
	if n := c.len(); n > 64 {
		t.Fatalf("cache holds %d entries; want at most 64", n)
	}
}

// TestSingleflight: concurrent identical misses make one engine call.
func TestSingleflight(t *testing.T) {
	gate := make(chan struct{})
	e := &countingEngine{typ: "openfga", allow: "alice/", gate: gate}
	a, _ := New("flight", false, []EngineConfig{{Engine: e, Timeout: 10 * time.Second, TTL: time.Hour}})
	in, js := input("alice/a")
	var wg sync.WaitGroup
	results := make([]Result, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = a.Decide(context.Background(), in, js)
		}()
	}
	// Let the first call in, then wait until every caller has either
	// joined it or found the cached answer before opening the gate.
	for e.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(gate)
	wg.Wait()
	for i, r := range results {
		if !r.Allow {
			t.Fatalf("caller %d: unexpected result %+v", i, r)
		}
	}
	if n := e.calls.Load(); n != 1 {
		t.Fatalf("engine called %d times by 8 concurrent identical requests; want 1", n)
	}
}
