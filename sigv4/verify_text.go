package sigv4

import (
	"bytes"
	"encoding/binary"
)

// Small byte helpers of the verifier: header lookup, value checks, unescaping
// and error-detail rendering.

// cutByte is bytes.Cut for a one-byte separator, without bytes.Index's
// dispatch (the verifier cuts some twenty times per request).
func cutByte(s []byte, sep byte) (before, after []byte, found bool) {
	if i := bytes.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, nil, false
}

// equalFoldLower reports whether b equals the lower-case ASCII string s,
// ignoring ASCII case in b.
func equalFoldLower(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	s = s[:len(b)]
	for i := range b {
		if b[i] != s[i] && lowerASCII(b[i]) != s[i] {
			return false
		}
	}
	return true
}

// trimOWS trims HTTP optional white space (spaces and tabs) from b.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// validSignatureHex reports whether b is 64 hex digits (either case),
// eight bytes at a time.
func validSignatureHex(b []byte) bool {
	if len(b) != 64 {
		return false
	}
	b = b[:64]
	var digits uint64 = highs64 // high bit of each byte: all hex so far
	for i := 0; i < 64; i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		digits &= inRange8(x, '0', '9') | inRange8(x|ones64*0x20, 'a', 'f') // hex8, inlined
	}
	return digits == highs64
}

// hex8 reports whether all eight bytes of x are hex digits, '0'..'9',
// 'a'..'f' or 'A'..'F'. For a byte c < 0x80, inRange8 sets its high bit
// iff lo <= c <= hi (hasbetween, per byte); OR-ing 0x20
// maps 'A'..'F' (and only them) onto 'a'..'f' and keeps bytes >= 0x80 at
// or above 0x80, which ^x masks out.
func hex8(x uint64) bool {
	return (inRange8(x, '0', '9')|inRange8(x|ones64*0x20, 'a', 'f'))&highs64 == highs64
}

// inRange8 returns, for each byte c of x, 0x80 iff c < 0x80 and lo <= c
// <= hi, and zero bits elsewhere (Hacker's Delight's hasbetween, per
// byte): for c < 0x80, c + 0x80 - lo has its high bit set iff c >= lo,
// and 0x80 + hi - c iff c <= hi; bytes >= 0x80 are masked out by ^x. No
// sum carries or borrows across bytes: low <= 0x7f, 0x80-lo <= 0x80 and
// 0x80+hi > 0x7f.
func inRange8(x uint64, lo, hi byte) uint64 {
	low := x &^ highs64
	ge := low + ones64*uint64(0x80-lo)
	le := ones64*uint64(0x80+uint64(hi)) - low
	return ge & le &^ x & highs64
}

// validPayloadHash reports whether b is a value S3 accepts for
// x-amz-content-sha256 with AWS4-HMAC-SHA256.
func validPayloadHash(b []byte) bool {
	switch string(b) {
	case unsignedPayload,
		"STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
		"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
		"STREAMING-UNSIGNED-PAYLOAD-TRAILER":
		return true
	}
	return validSignatureHex(b) // 64 hex digits, like a SHA-256
}

// appendPathUnescape appends the path src with every %XX decoded once; a
// '%' without two hex digits is literal and '+' is not special.
func appendPathUnescape(dst, src []byte) []byte {
	if bytes.IndexByte(src, '%') < 0 {
		return append(dst, src...) // nothing to decode: the common case
	}
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

// appendQueryUnescape appends the query component src decoded as
// appendQueryComponent does ('+' is a space, %XX a byte, a stray '%'
// literal).
func appendQueryUnescape(dst, src []byte) []byte {
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
		dst = append(dst, c)
	}
	return dst
}

// quoteSafe renders client bytes for an error detail: single-quoted,
// non-printable ASCII and quotes replaced by '?', cut at 64 bytes. Never
// pass it a secret or a signature.
func quoteSafe(b []byte) string {
	const max = 64
	out := make([]byte, 0, min(len(b), max)+5)
	out = append(out, '\'')
	for i, c := range b {
		if i == max {
			out = append(out, "..."...)
			break
		}
		if c < 0x20 || c > 0x7e || c == '\'' {
			c = '?'
		}
		out = append(out, c)
	}
	return string(append(out, '\''))
}

// safeToken renders a short token (algorithm or component name) for an
// error detail, or a placeholder if it does not look like one, so that a
// mangled header can never echo its signature.
func safeToken(b []byte) string {
	if len(b) == 0 || len(b) > 32 {
		return "(unrecognized)"
	}
	for _, c := range b {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "(unrecognized)"
		}
	}
	return quoteSafe(b)
}
