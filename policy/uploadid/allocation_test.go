//go:build !race

package uploadid

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestOpen_NoAllocs(t *testing.T) {
	s := mustSealer(t, secretB, secretA)
	o := Owner{Route: "uploads", Key: bytes.Repeat([]byte("k"), 1024), Subject: "alice"}
	tok := mustSeal(t, mustSealer(t, secretA), strings.Repeat("x", MaxBackendID), o, t0.Add(time.Hour))
	dst := make([]byte, 0, 3<<10)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := Open(dst, s, tok, &o, t0); err != nil {
			panic(err)
		}
	}); n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
}
