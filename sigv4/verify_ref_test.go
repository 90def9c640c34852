package sigv4

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// The reference implementations below are the byte-at-a-time versions the
// faster verifier code replaced; the tests in this file check that old and
// new agree on exhaustive or random inputs, malformed ones included.

// validSignatureHexRef is validSignatureHex as a byte loop.
func validSignatureHexRef(b []byte) bool {
	if len(b) != 64 {
		return false
	}
	for _, c := range b {
		if _, ok := unhex(c); !ok {
			return false
		}
	}
	return true
}

// hex8 agrees with unhex on every byte value at every position of a word,
// over words of random hex digits and random bytes.
func TestHex8(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const digits = "0123456789abcdefABCDEF"
	var w [8]byte
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			for k := 0; k < 64; k++ {
				for i := range w {
					w[i] = digits[rng.IntN(len(digits))]
					if k%4 == 3 {
						w[i] = byte(rng.Uint32())
					}
				}
				w[pos] = byte(c)
				want := true
				for _, b := range w {
					_, ok := unhex(b)
					want = want && ok
				}
				if got := hex8(binary.LittleEndian.Uint64(w[:])); got != want {
					t.Fatalf("hex8(%q); got %v; want %v", w, got, want)
				}
			}
		}
	}
}

// validSignatureHex and validPayloadHash agree with the byte loop on
// strings of hex digits (either case), near-hex bytes and odd lengths.
func TestValidSignatureHexOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const alphabet = "0123456789abcdefABCDEFgG/:@`{ \x00\x80\xff"
	for i := 0; i < 200000; i++ {
		n := 64
		if i%8 == 0 {
			n = rng.IntN(70)
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = "0123456789abcdef"[rng.IntN(16)]
		}
		for m := rng.IntN(3); m > 0 && n > 0; m-- {
			b[rng.IntN(n)] = alphabet[rng.IntN(len(alphabet))]
		}
		if got, want := validSignatureHex(b), validSignatureHexRef(b); got != want {
			t.Fatalf("validSignatureHex(%q); got %v; want %v", b, got, want)
		}
		if got, want := validPayloadHash(b), validSignatureHexRef(b); got != want {
			t.Fatalf("validPayloadHash(%q); got %v; want %v", b, got, want)
		}
	}
}
