package sigv4

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The run-copying encoders and the no-escape shortcut of
// appendPathUnescape give what the byte-at-a-time forms give.
func TestEncodersMatchBytewise(t *testing.T) {
	uriEncode := func(src []byte, encodeSlash bool) []byte {
		var dst []byte
		for _, c := range src {
			dst = appendEncodedByte(dst, c, encodeSlash)
		}
		return dst
	}
	queryComponent := func(src []byte) []byte {
		var dst []byte
		for i := 0; i < len(src); i++ {
			c := src[i]
			switch c {
			case '+':
				c = ' '
			case '%':
				if i+2 < len(src) {
					hi, ok1 := unhex(src[i+1])
					lo, ok2 := unhex(src[i+2])
					if ok1 && ok2 {
						c = hi<<4 | lo
						i += 2
					}
				}
			}
			dst = appendEncodedByte(dst, c, true)
		}
		return dst
	}
	pathUnescape := func(src []byte) []byte {
		var dst []byte
		for i := 0; i < len(src); i++ {
			c := src[i]
			if c == '%' && i+2 < len(src) {
				hi, ok1 := unhex(src[i+1])
				lo, ok2 := unhex(src[i+2])
				if ok1 && ok2 {
					c = hi<<4 | lo
					i += 2
				}
			}
			dst = append(dst, c)
		}
		return dst
	}
	alphabet := []byte("aZ09-_.~/+% =&?#\x00\xffAf")
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 50000; i++ {
		src := make([]byte, rng.IntN(10))
		for j := range src {
			src[j] = alphabet[rng.IntN(len(alphabet))]
		}
		prefix := []byte("p")
		for _, slash := range []bool{false, true} {
			if got, want := AppendURIEncode(bytes.Clone(prefix), src, slash), append(bytes.Clone(prefix), uriEncode(src, slash)...); !bytes.Equal(got, want) {
				t.Fatalf("AppendURIEncode(%q, %v) = %q; want %q", src, slash, got, want)
			}
		}
		if got, want := appendQueryComponent(bytes.Clone(prefix), src), append(bytes.Clone(prefix), queryComponent(src)...); !bytes.Equal(got, want) {
			t.Fatalf("appendQueryComponent(%q) = %q; want %q", src, got, want)
		}
		if got, want := appendPathUnescape(bytes.Clone(prefix), src), append(bytes.Clone(prefix), pathUnescape(src)...); !bytes.Equal(got, want) {
			t.Fatalf("appendPathUnescape(%q) = %q; want %q", src, got, want)
		}
	}
}

// equalSignature is true exactly for the same 64 bytes.
func TestEqualSignature(t *testing.T) {
	var want [64]byte
	for i := range want {
		want[i] = "0123456789abcdef"[i%16]
	}
	if !equalSignature(&want, want[:]) {
		t.Fatal("equal signatures compare unequal")
	}
	for i := range want {
		for _, bit := range []byte{1, 0x20, 0x80} {
			sig := bytes.Clone(want[:])
			sig[i] ^= bit
			if equalSignature(&want, sig) {
				t.Fatalf("a signature differing in byte %d compares equal", i)
			}
		}
	}
	if equalSignature(&want, want[:63]) || equalSignature(&want, append(bytes.Clone(want[:]), 'x')) {
		t.Fatal("a signature of another length compares equal")
	}
}

// The X-Amz-Date memo returns what parsing returns, for a repeat, a new
// date and a malformed one (which must neither pass nor replace the memo).
func TestAmzDateMemo(t *testing.T) {
	var m amzDateMemo
	for _, d := range []string{"20260102T030405Z", "20260102T030405Z", "20260102T030406Z", "2026010xT030406Z", "20260102T030406Z", "20261231T235959Z", "20260102T030405Z"} {
		got, gotOK := m.parse([]byte(d))
		want, wantOK := parseAmzDate([]byte(d))
		if gotOK != wantOK || !got.Equal(want) {
			t.Fatalf("%s: memo gives %v %v; parsing gives %v %v", d, got, gotOK, want, wantOK)
		}
	}
}
