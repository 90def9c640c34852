package sigv4

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
)

// The reference implementations below are the byte-at-a-time versions the
// faster verifier code replaced; the tests in this file check that old and
// new agree on exhaustive or random inputs, malformed ones included.

// headerValue (the reference of authHeaders.scan) returns the first value of the header named lower (a
// lower-case name), trimmed of spaces and tabs, and how many there are.
func headerValue(hs []Header, lower string) (first []byte, n int) {
	for i := range hs {
		if equalFoldLower(hs[i].Name, lower) {
			if n == 0 {
				first = trimOWS(hs[i].Value)
			}
			n++
		}
	}
	return first, n
}

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

// authHeaders.scan finds, for each header Verify reads, what headerValue
// finds: on random header lists of those names in any case, near misses
// (one byte off, one byte longer or shorter), repeats and values padded
// with spaces and tabs.
func TestAuthHeadersOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	names := [hCount]string{
		hAuthorization: "authorization", hAmzDate: "x-amz-date", hDate: "date",
		hContentSHA: "x-amz-content-sha256", hSecurityToken: "x-amz-security-token",
	}
	pool := []string{"host", "content-type", "x-amz-meta-a", "dates", "dat", "x-amz-dat", "x-amz-content-sha25",
		"x-amz-content_sha256", "x-amz-security-tokens", "authorizatio", "", "x-amz-date\x00", "Date\t"}
	for _, n := range names {
		pool = append(pool, n, strings.ToUpper(n))
	}
	values := []string{"", " ", "v", " \tv w\t ", "AWS4-HMAC-SHA256 x", "\t\t"}
	for i := 0; i < 100000; i++ {
		hs := make([]Header, rng.IntN(12))
		for j := range hs {
			name := []byte(pool[rng.IntN(len(pool))])
			for k := range name {
				switch rng.IntN(12) {
				case 0:
					name[k] ^= 0x20 // flip case (or not a letter: a near miss)
				case 1:
					name[k]++
				}
			}
			hs[j] = Header{Name: name, Value: []byte(values[rng.IntN(len(values))])}
		}
		var h authHeaders
		h.scan(hs)
		for k, n := range names {
			first, cnt := headerValue(hs, n)
			if cnt != h.n[k] || !bytes.Equal(first, h.first[k]) || (first == nil) != (h.first[k] == nil) {
				t.Fatalf("%s in %q: scan found %q x%d; headerValue %q x%d", n, hs, h.first[k], h.n[k], first, cnt)
			}
		}
	}
}
