//go:build !race

package seal

import (
	"bytes"
	"testing"
)

func TestOpen_NoAllocs(t *testing.T) {
	// Old-secret token: Open tries the first key, fails, then opens with
	// the second, still without allocating.
	s := mustNew(t, secretB, secretA)
	tok := mustNew(t, secretA).Seal(nil, "p", bytes.Repeat([]byte{'x'}, 100), []byte("ad"))
	dst := make([]byte, 0, 2*len(tok))
	ad := []byte("ad")
	if _, err := s.Open(dst, "p", tok, ad); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := s.Open(dst, "p", tok, ad); err != nil {
			panic(err)
		}
	}); n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
	bad := bytes.Clone(tok)
	bad[5] ^= 1
	if n := testing.AllocsPerRun(100, func() { _, _ = s.Open(dst, "p", bad, ad) }); n != 0 {
		t.Fatalf("unexpected allocations on failure; got %v; want 0", n)
	}
}
