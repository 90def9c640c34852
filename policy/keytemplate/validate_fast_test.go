package keytemplate

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// printable8 agrees with a byte test for every byte value at every
// position of a word.
func TestPrintable8(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var w [8]byte
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			for k := 0; k < 64; k++ {
				for i := range w {
					w[i] = byte(rng.Uint32())
					if k%2 == 0 {
						w[i] = byte(0x20 + rng.IntN(0x7f-0x20))
					}
				}
				w[pos] = byte(c)
				want := true
				for _, b := range w {
					want = want && b >= 0x20 && b <= 0x7e
				}
				if got := printable8(binary.LittleEndian.Uint64(w[:])); got != want {
					t.Fatalf("printable8(%q); got %v; want %v", w, got, want)
				}
			}
		}
	}
}

// hasDotSegment and validText, with their shortcuts, agree with the plain
// definitions on random keys of every length up to 40 bytes.
func TestValidateShortcuts(t *testing.T) {
	dotSegment := func(b []byte) bool {
		start := 0
		for i := 0; i <= len(b); i++ {
			if i < len(b) && b[i] != '/' {
				continue
			}
			if n := i - start; n == 1 && b[start] == '.' || n == 2 && b[start] == '.' && b[start+1] == '.' {
				return true
			}
			start = i + 1
		}
		return false
	}
	text := func(b []byte) bool {
		for _, r := range string(b) {
			if r == '\uFFFD' || r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0xFFFE || r == 0xFFFF {
				return false
			}
		}
		return true
	}
	pieces := []string{"a", "/", ".", "..", "Z", " ", "~", "\x7f", "\x1f", "\u0085", "\u00a0", "é", "\uFFFE", "\uFFFF", "\uFFFD", "\xff", "\xc2"}
	rng := rand.New(rand.NewPCG(13, 14))
	for i := 0; i < 100000; i++ {
		var b []byte
		for n := rng.IntN(41); len(b) < n; {
			p := "k"
			if rng.IntN(3) == 0 {
				p = pieces[rng.IntN(len(pieces))]
			}
			b = append(b, p...)
		}
		if got, want := hasDotSegment(b), dotSegment(b); got != want {
			t.Fatalf("hasDotSegment(%q); got %v; want %v", b, got, want)
		}
		// A literal U+FFFD in the key is valid; the reference cannot tell it
		// from a decoding error, so such keys are left out.
		if bytesContain(b, "\uFFFD") {
			continue
		}
		if got, want := validText(b), text(b); got != want {
			t.Fatalf("validText(%q); got %v; want %v", b, got, want)
		}
	}
}

func bytesContain(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}
