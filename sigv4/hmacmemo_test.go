package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// sumSigning must equal crypto/hmac for every sequence of keys and
// messages: the same key again (memoized pads), the same first block with
// another tail (memoized first block), a new key (memo replaced), messages
// shorter than, equal to and longer than a block, and plain reset/write/sum
// and key derivation in between (which must not pick up the memo).
func TestSumSigningMatchesHMAC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([][32]byte, 3)
	for i := range keys {
		for j := range keys[i] {
			keys[i][j] = byte(rng.Uint32())
		}
	}
	prefix := bytes.Repeat([]byte("AWS4-HMAC-SHA256\n20260102T030405Z\n"), 4)
	m := newMAC()
	if !m.memo.usable {
		t.Fatal("crypto/sha256 digests cannot save their state: the memo is never used")
	}
	var scratch []byte
	var dk [32]byte
	for i := 0; i < 2000; i++ {
		key := &keys[rng.IntN(len(keys))]
		n := []int{0, 1, 63, 64, 65, 127, 128, 129, 200}[rng.IntN(9)]
		msg := make([]byte, n)
		copy(msg, prefix)
		if n > 0 && rng.IntN(3) == 0 {
			msg[rng.IntN(n)] ^= 1 // sometimes change the first block
		}
		for j := min(n, len(prefix)); j < n; j++ {
			msg[j] = byte(rng.Uint32())
		}
		want := hmac.New(sha256.New, key[:])
		want.Write(msg)
		if got := m.sumSigning(nil, key, msg); !bytes.Equal(got, want.Sum(nil)) {
			t.Fatalf("step %d (len %d): sumSigning differs from crypto/hmac", i, n)
		}
		switch rng.IntN(4) {
		case 0:
			m.reset(msg)
			m.write(prefix)
			want := hmac.New(sha256.New, msg)
			want.Write(prefix)
			if got := m.sum(nil); !bytes.Equal(got, want.Sum(nil)) {
				t.Fatalf("step %d: reset/write/sum after sumSigning differs from crypto/hmac", i)
			}
		case 1:
			scratch = m.deriveKey(&dk, scratch, "secret", []byte("20260102"), []byte("us-east-1"), []byte("s3"))
			var want [32]byte
			DeriveSigningKey(&want, "secret", []byte("20260102"), []byte("us-east-1"), []byte("s3"))
			if dk != want {
				t.Fatalf("step %d: deriveKey after sumSigning differs", i)
			}
		}
	}
}

// Signing with a memoized key restores the states instead of hashing the
// pads and the first block: it must not allocate either.
func TestSumSigningNoAllocs(t *testing.T) {
	m := newMAC()
	var key [32]byte
	msg := bytes.Repeat([]byte("x"), 150)
	var dst [32]byte
	m.sumSigning(dst[:0], &key, msg)
	if n := testing.AllocsPerRun(100, func() { m.sumSigning(dst[:0], &key, msg) }); n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
}

// appendHeaderValue's fast path (canonicalValue) must give what trimming
// and collapsing give, for values with and without leading, trailing and
// inner white space, tabs and non-ASCII (Unicode) spaces.
func TestAppendHeaderValueFastPath(t *testing.T) {
	slow := func(v []byte) []byte {
		v = bytes.TrimSpace(v)
		var out []byte
		for i, c := range v {
			if c == ' ' && i > 0 && v[i-1] == ' ' {
				continue
			}
			out = append(out, c)
		}
		return out
	}
	alphabet := []string{"a", "Z", " ", "\t", "\u00a0", "\u0085", "\v", "é", "~", "!"}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		var v []byte
		for n := rng.IntN(7); n > 0; n-- {
			v = append(v, alphabet[rng.IntN(len(alphabet))]...)
		}
		if got, want := appendHeaderValue(nil, v), slow(v); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q; want %q", v, got, want)
		}
	}
}

// The fold helpers' equal-byte shortcuts agree with lower-casing every
// byte, on names that differ in case, length and letters.
func TestFoldHelpers(t *testing.T) {
	ref := func(a, b []byte) int {
		for i := 0; i < len(a) && i < len(b); i++ {
			if ca, cb := lowerASCII(a[i]), lowerASCII(b[i]); ca != cb {
				return int(ca) - int(cb)
			}
		}
		return len(a) - len(b)
	}
	sign := func(x int) int { return min(max(x, -1), 1) }
	alphabet := []byte("aAbBzZ-@[`{09")
	rng := rand.New(rand.NewPCG(7, 8))
	word := func() []byte {
		w := make([]byte, rng.IntN(5))
		for i := range w {
			w[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return w
	}
	for i := 0; i < 50000; i++ {
		a, b := word(), word()
		if rng.IntN(2) == 0 {
			b = bytes.ToUpper(a)
		}
		want := ref(a, b)
		if got := compareFoldASCII(a, b); sign(got) != sign(want) {
			t.Fatalf("compareFoldASCII(%q, %q) = %d; want sign of %d", a, b, got, want)
		}
		if got := equalFoldASCII(a, b); got != (want == 0) {
			t.Fatalf("equalFoldASCII(%q, %q) = %v", a, b, got)
		}
		lower := string(bytes.ToLower(b))
		if got := equalFoldLower(a, lower); got != (ref(a, []byte(lower)) == 0) {
			t.Fatalf("equalFoldLower(%q, %q) = %v", a, lower, got)
		}
	}
}
