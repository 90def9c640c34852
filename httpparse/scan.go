package httpparse

import "encoding/binary"

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// scanValue returns the index of the first byte at or after i in b that is
// not allowed in a field value (see cValue), or len(b). It checks eight
// bytes at a time (SWAR): a word is clean when it holds no byte below 0x20
// and no DEL; a word with HT or a terminator is rechecked byte by byte.
func scanValue(b []byte, i int) int {
	for {
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			d := x ^ (lsb * 0x7f)
			if ((x-lsb*0x20)&^x|(d-lsb)&^d)&msb != 0 {
				break
			}
			i += 8
		}
		end := min(i+8, len(b))
		for ; i < end; i++ {
			if charClass[b[i]]&cValue == 0 {
				return i
			}
		}
		if i >= len(b) {
			return i
		}
	}
}
