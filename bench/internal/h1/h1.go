// Package h1 holds the few HTTP/1.1 wire helpers that the bench sink and the
// load generator share. It is not a general HTTP parser: it trusts its peer
// (both ends are our own tools or the gateway under test) and only guards
// against lines longer than the bufio.Reader's buffer.
package h1

import (
	"bufio"
	"bytes"
	"errors"
)

// ErrMalformed reports a line that does not follow the HTTP/1.1 syntax the
// bench tools expect.
var ErrMalformed = errors.New("h1: malformed message")

// ParseUint parses a non-negative decimal number. It returns -1 for an empty,
// non-digit or overflowing input.
func ParseUint(b []byte) int64 {
	if len(b) == 0 || len(b) > 18 {
		return -1
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// ParseHex parses a chunk-size (hex digits, optionally followed by
// ";extensions"). It returns -1 when no digit is present or it overflows.
func ParseHex(b []byte) int64 {
	var n int64
	digits := 0
	for _, c := range b {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			if digits == 0 {
				return -1
			}
			return n
		}
		digits++
		if digits > 15 {
			return -1
		}
		n = n<<4 | int64(v)
	}
	if digits == 0 {
		return -1
	}
	return n
}

// ReadLine returns one line without its CRLF (or bare LF). The bytes point into
// br's buffer and stay valid until the next read from br.
func ReadLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// SplitHeader splits "Name: value" into the name and the trimmed value.
func SplitHeader(line []byte) (name, value []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil, nil, false
	}
	return line[:i], bytes.TrimSpace(line[i+1:]), true
}

// DiscardChunked reads a chunked body, including trailers, and throws it
// away. It returns the number of decoded body bytes.
func DiscardChunked(br *bufio.Reader) (int64, error) {
	var total int64
	for {
		line, err := ReadLine(br)
		if err != nil {
			return total, err
		}
		size := ParseHex(bytes.TrimSpace(line))
		if size < 0 {
			return total, ErrMalformed
		}
		if size == 0 {
			// Trailer section ends with an empty line.
			for {
				line, err := ReadLine(br)
				if err != nil {
					return total, err
				}
				if len(line) == 0 {
					return total, nil
				}
			}
		}
		n, err := br.Discard(int(size))
		total += int64(n)
		if err != nil {
			return total, err
		}
		line, err = ReadLine(br)
		if err != nil {
			return total, err
		}
		if len(line) != 0 {
			return total, ErrMalformed
		}
	}
}

// ContainsFold reports whether tok occurs in s, ASCII case-insensitively.
func ContainsFold(s, tok []byte) bool {
	for len(s) >= len(tok) {
		if bytes.EqualFold(s[:len(tok)], tok) {
			return true
		}
		s = s[1:]
	}
	return false
}
