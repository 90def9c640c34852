package httpparse

// plainURI8 reports whether all eight bytes of x (little-endian) are
// request-target bytes (cURI: visible ASCII 0x21..0x7E) other than '?'
// and '%', the two the request-line loop must look at. Paths are mostly
// such runs, so the loop skips them a word at a time (SWAR, as
// scanValue). Each test is exact as "some byte is":
//
//   - below 0x21: (x - 0x21…) &^ x has a high bit set (Hacker's Delight
//     hasless, for n <= 0x80);
//   - above 0x7E: x + 0x01… sets a high bit, or x has one;
//   - '?' or '%': x xor that byte has a zero byte.
func plainURI8(x uint64) bool {
	low := (x - lsb*0x21) &^ x
	high := (x + lsb*(0x7f-0x7e)) | x
	return (low|high|zeroByte(x^lsb*'?')|zeroByte(x^lsb*'%'))&msb == 0
}

// zeroByte has a high bit set in some byte iff some byte of y is zero
// (exact as "any": borrows only flag bytes above a zero byte).
func zeroByte(y uint64) uint64 { return (y - lsb) &^ y }
