//go:build !race

package engine

import (
	"net/netip"
	"testing"
)

// The per-connection and per-request limit checks allocate nothing once an
// IP and an identity have entries.
func TestLimitChecksNoAllocs(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0"}, NewRouter(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	s.SetLimits(Limits{MaxConnsPerIP: 100, MinBodyRate: 1, MaxInflightUploads: 1000,
		MaxInflightUploadsPerIdentity: 100, RequestsPerSecond: 1e12})
	ip := netip.MustParseAddr("192.0.2.7")
	ar := authResult{id: identity{method: "sigv4", subject: "alice", accessKey: "AKALICE"}}
	st := &connState{}
	n := testing.AllocsPerRun(500, func() {
		if !s.admitIP(ip) {
			t.Fatal("connection refused")
		}
		if retry := s.admitRequest(st, opPutObject, &ar); retry != 0 {
			t.Fatalf("request refused (retry %d)", retry)
		}
		if s.bodyTooSlow(st, 10) || s.bodyTooSlow(st, 20) {
			t.Fatal("body judged too slow")
		}
		slot := st.lim.handOff()
		slot.Release()
		s.releaseIP(ip)
	})
	if n != 0 {
		t.Fatalf("unexpected allocations per connection and request; got %v; want 0", n)
	}
	if c := s.lim.ips.Count(ip); c != 0 {
		t.Fatalf("IP still counted %d times", c)
	}
	if c := uploadsInflight.Count(); c != 0 {
		t.Fatalf("in-flight uploads still counted: %d", c)
	}
}

// BenchmarkLimitChecks is one connection's and one upload's admission with
// every limit on: per-IP count, token bucket, in-flight caps, body rate.
func BenchmarkLimitChecks(b *testing.B) {
	s, err := New(Config{Addr: "127.0.0.1:0"}, NewRouter(nil, nil))
	if err != nil {
		b.Fatal(err)
	}
	s.SetLimits(Limits{MaxConnsPerIP: 100, MinBodyRate: 1, MaxInflightUploads: 1 << 20,
		MaxInflightUploadsPerIdentity: 1 << 20, RequestsPerSecond: 1e12})
	ip := netip.MustParseAddr("192.0.2.7")
	ar := authResult{id: identity{method: "sigv4", subject: "alice"}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		st := &connState{}
		for pb.Next() {
			s.admitIP(ip)
			s.admitRequest(st, opPutObject, &ar)
			s.bodyTooSlow(st, 10)
			slot := st.lim.handOff()
			slot.Release()
			s.releaseIP(ip)
		}
	})
}
