package sigv4

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"
)

const hexDigitsUpper = "0123456789ABCDEF"
const hexDigitsLower = "0123456789abcdef"

// unreserved marks the RFC 3986 unreserved bytes: A-Z a-z 0-9 - _ . ~
var unreserved = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['_'], t['.'], t['~'] = true, true, true, true
	return t
}()

// AppendURIEncode appends src to dst URI-encoded the SigV4 way: the RFC 3986
// unreserved bytes A-Z a-z 0-9 - _ . ~ are kept, every other byte becomes
// %XX with upper-case hex. '/' is kept when encodeSlash is false (object key
// in a path) and encoded as %2F when it is true (query names and values,
// bucket names). src is treated as raw bytes: it is not decoded first, so a
// '%' in src becomes %25.
func AppendURIEncode(dst, src []byte, encodeSlash bool) []byte {
	keep := &keptPath
	if encodeSlash {
		keep = &unreserved
	}
	for len(src) > 0 {
		// Copy the run of bytes kept as they are in one append.
		i := 0
		for i < len(src) && keep[src[i]] {
			i++
		}
		dst = append(dst, src[:i]...)
		if i == len(src) {
			break
		}
		dst = appendEncodedByte(dst, src[i], encodeSlash)
		src = src[i+1:]
	}
	return dst
}

// keptPath marks the bytes a path keeps: unreserved ones and '/'.
var keptPath = func() [256]bool {
	t := unreserved
	t['/'] = true
	return t
}()

func appendEncodedByte(dst []byte, c byte, encodeSlash bool) []byte {
	if unreserved[c] || (c == '/' && !encodeSlash) {
		return append(dst, c)
	}
	return append(dst, '%', hexDigitsUpper[c>>4], hexDigitsUpper[c&15])
}

// AppendHex appends the lower-case hex encoding of src to dst.
func AppendHex(dst, src []byte) []byte {
	// Grow once and store digit pairs by index: an append per pair costs a
	// capacity check each, and this runs four times per signed request.
	n := len(dst)
	dst = slices.Grow(dst, 2*len(src))[:n+2*len(src)]
	out := dst[n:]
	if len(src) == sha256.Size {
		hexDigest((*[2 * sha256.Size]byte)(out), (*[sha256.Size]byte)(src))
		return dst
	}
	for i, c := range src {
		binary.LittleEndian.PutUint16(out[2*i:], hexPairs[c])
	}
	return dst
}

// hexDigest writes the hex of a SHA-256 digest: fixed sizes, so the loop
// has no bounds checks.
func hexDigest(dst *[2 * sha256.Size]byte, src *[sha256.Size]byte) {
	for i := range sha256.Size {
		binary.LittleEndian.PutUint16(dst[2*i:], hexPairs[src[i]])
	}
}

// hexPairs holds the two lower-case hex digits of every byte value, first
// digit in the low byte (little-endian store order).
var hexPairs = func() (t [256]uint16) {
	for i := range t {
		t[i] = uint16(hexDigitsLower[i>>4]) | uint16(hexDigitsLower[i&15])<<8
	}
	return t
}()

// AppendAmzDate appends t in UTC in the SigV4 basic ISO 8601 form
// "20060102T150405Z" to dst. Years outside 0..9999 are written modulo 10000,
// which no signer or verifier accepts anyway.
func AppendAmzDate(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 {
		year = -year
	}
	year %= 10000
	return append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10),
		byte('0'+int(month)/10), byte('0'+int(month)%10),
		byte('0'+day/10), byte('0'+day%10),
		'T',
		byte('0'+hour/10), byte('0'+hour%10),
		byte('0'+minute/10), byte('0'+minute%10),
		byte('0'+sec/10), byte('0'+sec%10),
		'Z')
}

// unhex returns the value of the hex digit c and whether c is one.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendQueryComponent appends the canonical form of one raw query name or
// value: it is decoded the way net/url.ParseQuery does ('+' is a space, %XX
// a byte) and re-encoded with AppendURIEncode(encodeSlash=true). A '%' that
// does not start a valid escape is taken literally (and so becomes %25).
func appendQueryComponent(dst, src []byte) []byte {
	for i := 0; i < len(src); i++ {
		// Copy the run of unreserved bytes (neither '+' nor '%', and
		// encoded as themselves) in one append.
		j := i
		for j < len(src) && unreserved[src[j]] {
			j++
		}
		if j > i {
			dst = append(dst, src[i:j]...)
			if i = j; i == len(src) {
				break
			}
		}
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
