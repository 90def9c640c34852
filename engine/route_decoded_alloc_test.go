//go:build !race

package engine

import "testing"

func TestAllocationMatchesDecoded(t *testing.T) {
	a := &Route{Name: "a", Prefix: "/a"}
	r := NewRouter([]*Route{a, {Name: "ab", Prefix: "/a/b"}}, []string{"s3.local"})
	host, path := []byte("localhost"), []byte("/a/x%2Fy%20z")
	if n := testing.AllocsPerRun(100, func() {
		if !r.MatchesDecoded(host, path, a) {
			t.Fatal("unexpected refusal")
		}
	}); n != 0 {
		t.Fatalf("unexpected allocations in MatchesDecoded; got %v; want 0", n)
	}
}
