package sigv4

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// The eight-bytes-at-a-time tests agree with the byte loops they replace:
// every byte value at every position of a word, over words of random
// other bytes.
func TestWordTests(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var w [8]byte
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			for k := 0; k < 64; k++ {
				for i := range w {
					w[i] = byte(rng.Uint32())
					if k%2 == 0 {
						w[i] = "abc-xyz0123456789:;/_!~"[rng.IntN(23)] // no upper, no space
					}
				}
				w[pos] = byte(c)
				x := binary.LittleEndian.Uint64(w[:])
				wantUpper, wantSpace := false, false
				for _, b := range w {
					wantUpper = wantUpper || 'A' <= b && b <= 'Z'
					wantSpace = wantSpace || b == ' '
				}
				if got := hasUpper8(x); got != wantUpper {
					t.Fatalf("hasUpper8(%q); got %v; want %v", w, got, wantUpper)
				}
				if got := hasSpace8(x); got != wantSpace {
					t.Fatalf("hasSpace8(%q); got %v; want %v", w, got, wantSpace)
				}
			}
		}
	}
}

// hasUpperASCII and canonicalValue, on names and values of every length
// up to 40 bytes, agree with plain byte loops.
func TestWordLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte("aZ -\t~!é:09xA")
	for i := 0; i < 50000; i++ {
		v := make([]byte, rng.IntN(41))
		for j := range v {
			v[j] = alphabet[rng.IntN(len(alphabet))]
			if rng.IntN(4) > 0 {
				v[j] = 'a' + byte(rng.IntN(26)) // mostly plain, so the word paths run
			}
		}
		upper := false
		for _, c := range v {
			upper = upper || 'A' <= c && c <= 'Z'
		}
		if got := hasUpperASCII(v); got != upper {
			t.Fatalf("hasUpperASCII(%q); got %v; want %v", v, got, upper)
		}
		canon := len(v) == 0 || visibleASCII(v[0]) && visibleASCII(v[len(v)-1]) && !bytes.Contains(v, []byte("  "))
		if got := canonicalValue(v); got != canon {
			t.Fatalf("canonicalValue(%q); got %v; want %v", v, got, canon)
		}
	}
}
