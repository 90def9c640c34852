package upstream

import (
	"math/rand/v2"
	"testing"
)

// forwardedList is Forwarded written as the plain list it implements.
func forwardedList(name []byte) bool {
	switch {
	case eqFold(name, "content-type"), eqFold(name, "content-md5"),
		eqFold(name, "content-encoding"), eqFold(name, "content-disposition"),
		eqFold(name, "content-language"), eqFold(name, "cache-control"),
		eqFold(name, "expires"), eqFold(name, "if-none-match"), eqFold(name, "if-match"),
		eqFold(name, "x-amz-sdk-checksum-algorithm"), eqFold(name, "x-amz-trailer"),
		eqFold(name, "x-amz-decoded-content-length"), eqFold(name, "x-amz-storage-class"),
		eqFold(name, "x-amz-tagging"), eqFold(name, "x-amz-website-redirect-location"):
		return true
	case hasPrefixFold(name, "x-amz-meta-"), hasPrefixFold(name, "x-amz-checksum-"),
		hasPrefixFold(name, "x-amz-server-side-encryption"), hasPrefixFold(name, "x-amz-object-lock-"):
		return true
	}
	return false
}

// Forwarded's first-letter dispatch agrees with the list for every listed
// name in mixed case, their prefixes and extensions, and random names.
func TestForwardedMatchesList(t *testing.T) {
	names := []string{"content-type", "content-md5", "content-encoding", "content-disposition",
		"content-language", "cache-control", "expires", "if-none-match", "if-match",
		"x-amz-sdk-checksum-algorithm", "x-amz-trailer", "x-amz-decoded-content-length",
		"x-amz-storage-class", "x-amz-tagging", "x-amz-website-redirect-location",
		"x-amz-meta-", "x-amz-checksum-", "x-amz-server-side-encryption", "x-amz-object-lock-",
		"x-amz-date", "x-amz-content-sha256", "authorization", "host", "content-length", "", "x", "@", "c"}
	rng := rand.New(rand.NewPCG(5, 6))
	check := func(b []byte) {
		if got, want := Forwarded(b), forwardedList(b); got != want {
			t.Fatalf("Forwarded(%q) = %v; the list says %v", b, got, want)
		}
	}
	for _, n := range names {
		for i := 0; i < 50; i++ {
			b := []byte(n)
			for j := range b {
				if rng.IntN(2) == 0 && 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			check(b)
			check(append(b, "x"...))
			if len(b) > 0 {
				check(b[:rng.IntN(len(b))])
				c := append([]byte(nil), b...)
				c[rng.IntN(len(c))] ^= byte(1 << rng.IntN(8))
				check(c)
			}
		}
	}
	for i := 0; i < 100000; i++ {
		b := make([]byte, rng.IntN(4))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		check(b)
	}
}
