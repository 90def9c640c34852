package httpparse

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// plainURI8 agrees with the byte test it replaces (cURI, and neither '?'
// nor '%') for every byte value at every position of a word, the other
// bytes drawn from plain path bytes or from anything.
func TestPlainURI8(t *testing.T) {
	plain := func(c byte) bool { return charClass[c]&cURI != 0 && c != '?' && c != '%' }
	const pathBytes = "abcXYZ019/-._~!$&'()*+,;=:@"
	rng := rand.New(rand.NewPCG(9, 10))
	var w [8]byte
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			for k := 0; k < 64; k++ {
				for i := range w {
					w[i] = byte(rng.Uint32())
					if k%2 == 0 {
						w[i] = pathBytes[rng.IntN(len(pathBytes))]
					}
				}
				w[pos] = byte(c)
				want := true
				for _, b := range w {
					want = want && plain(b)
				}
				if got := plainURI8(binary.LittleEndian.Uint64(w[:])); got != want {
					t.Fatalf("plainURI8(%q); got %v; want %v", w, got, want)
				}
			}
		}
	}
}
