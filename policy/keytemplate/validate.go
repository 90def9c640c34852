package keytemplate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// MaxKeyLen is S3's limit on an object key, in bytes.
const MaxKeyLen = 1024

var (
	// ErrKeyTooLong: the stored key is longer than MaxKeyLen (S3 400
	// KeyTooLongError).
	ErrKeyTooLong = errors.New("keytemplate: key too long")
	// ErrKeyInvalid: the key is empty, not valid UTF-8, contains a control
	// character, U+FFFE or U+FFFF, or a "." or ".." segment (S3 400
	// InvalidArgument).
	ErrKeyInvalid = errors.New("keytemplate: invalid key")
)

// ValidateKey checks a decoded client key against the key rules (see the
// package doc); stored is the length of the key as stored upstream, after
// key_prefix and template.
func ValidateKey(decoded []byte, stored int) error {
	if max(stored, len(decoded)) > MaxKeyLen {
		return ErrKeyTooLong
	}
	if len(decoded) == 0 || !validText(decoded) || hasDotSegment(decoded) {
		return ErrKeyInvalid
	}
	return nil
}

// validText reports whether b is valid UTF-8 without C0 or C1 control
// characters, DEL, U+FFFE or U+FFFF.
func validText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	// b is valid UTF-8: a lead byte is followed by its continuation bytes.
	// Words of eight printable ASCII bytes need no look at each byte.
	i0 := 0
	for i0+8 <= len(b) && printable8(binary.LittleEndian.Uint64(b[i0:])) {
		i0 += 8
	}
	for i := i0; i < len(b); i++ {
		c := b[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return false
		case c == 0xc2: // U+0080..U+00BF
			if b[i+1] <= 0x9f {
				return false
			}
		case c == 0xef: // U+F000..U+FFFF
			if b[i+1] == 0xbf && b[i+2] >= 0xbe {
				return false
			}
		}
	}
	return true
}

// hasDotSegment reports whether a '/'-separated segment of b is "." or "..".
func hasDotSegment(b []byte) bool {
	// Such a segment starts with a '.' at the start or after a '/'.
	if len(b) == 0 || b[0] != '.' && !bytes.Contains(b, slashDot) {
		return false
	}
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

var slashDot = []byte("/.")

// printable8 reports whether the eight bytes of x are all in 0x20..0x7E
// (exact SWAR tests: no byte below 0x20, none at or above 0x7F).
func printable8(x uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	low := (x - lsb*0x20) &^ x
	high := (x + lsb*(0x7f-0x7e)) | x
	return (low|high)&msb == 0
}
