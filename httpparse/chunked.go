package httpparse

import (
	"bytes"
	"errors"
)

// ErrBadChunk means a Transfer-Encoding: chunked body is malformed.
var ErrBadChunk = errors.New("httpparse: malformed chunked body")

// maxChunkedLine bounds a chunk-size line (with extensions) or a trailer
// field line.
const maxChunkedLine = 4096

// maxChunkedTrailers bounds the trailer section.
const maxChunkedTrailers = 16 << 10

// Chunked decodes a Transfer-Encoding: chunked body incrementally (RFC 9112
// section 7.1). Chunk extensions are ignored (see sizeLine for what a
// size line may hold); trailer fields are skipped (bounded). It does not allocate. The zero value is ready; Reset reuses
// it.
type Chunked struct {
	state    uint8
	left     uint64 // data bytes left in the current chunk
	line     [maxChunkedLine]byte
	lineLen  int
	trailers int // trailer bytes seen
	total    int64
}

const (
	chSize uint8 = iota
	chData
	chDataCR
	chDataLF
	chTrailer
	chDone
)

// Reset prepares c for a new body.
func (c *Chunked) Reset() { *c = Chunked{} }

// Done reports that the last chunk and the trailer section were read.
func (c *Chunked) Done() bool { return c.state == chDone }

// Total is the number of data bytes decoded so far.
func (c *Chunked) Total() int64 { return c.total }

// Decode consumes encoded bytes from src and appends the data to dst. It
// consumes all of src unless it returns an error or the body ended; then n
// counts the bytes up to the error or the end, and the rest of src belongs
// to whatever follows the body. Input may be split at any byte.
func (c *Chunked) Decode(dst, src []byte) (out []byte, n int, err error) {
	for n < len(src) {
		switch c.state {
		case chSize, chTrailer:
			line, m, lerr := c.readLine(src[n:])
			n += m
			if lerr != nil {
				return dst, n, lerr
			}
			if line == nil {
				continue
			}
			if c.state == chSize {
				if err := c.sizeLine(line); err != nil {
					return dst, n, err
				}
				continue
			}
			if len(line) == 0 {
				c.state = chDone
				return dst, n, nil
			}
			c.trailers += len(line) + 2
			if c.trailers > maxChunkedTrailers || bytes.IndexByte(line, ':') <= 0 {
				return dst, n, ErrBadChunk
			}
		case chData:
			p := src[n:]
			if uint64(len(p)) > c.left {
				p = p[:c.left]
			}
			dst = append(dst, p...)
			n += len(p)
			c.left -= uint64(len(p))
			c.total += int64(len(p))
			if c.left == 0 {
				c.state = chDataCR
			}
		case chDataCR:
			if src[n] != '\r' {
				return dst, n, ErrBadChunk
			}
			n++
			c.state = chDataLF
		case chDataLF:
			if src[n] != '\n' {
				return dst, n, ErrBadChunk
			}
			n++
			c.state = chSize
		default:
			return dst, n, nil
		}
	}
	return dst, n, nil
}

// readLine returns the next CRLF-terminated line of p without its CRLF,
// or nil when p ends first (the bytes are kept); m counts bytes consumed.
func (c *Chunked) readLine(p []byte) (line []byte, m int, err error) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		if c.lineLen+len(p) > maxChunkedLine {
			return nil, len(p), ErrBadChunk
		}
		c.lineLen += copy(c.line[c.lineLen:], p)
		return nil, len(p), nil
	}
	m = i + 1
	if c.lineLen+m > maxChunkedLine {
		return nil, m, ErrBadChunk
	}
	if c.lineLen > 0 {
		n := c.lineLen + copy(c.line[c.lineLen:], p[:m])
		c.lineLen = 0
		line = c.line[:n]
	} else {
		line = p[:m]
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, m, ErrBadChunk // bare LF
	}
	return line[:len(line)-2], m, nil
}

// sizeLine parses a chunk-size line (RFC 9112 7.1):
//
//	1*HEXDIG *( SP / HTAB ) [ ";" chunk-ext ]
//
// Whitespace after the size is the grammar's BWS before ';' (and, with no
// extension, trailing whitespace that net/http also trims). The
// extensions are ignored, but may not hold control characters other than
// HTAB (a bare CR there is how some parsers are told a line ended).
// Anything else after the size ("5 junk", "5x", "5,6") is ErrBadChunk:
// the decoder never guesses where a size ends.
func (c *Chunked) sizeLine(line []byte) error {
	var size uint64
	i := 0
	for ; i < len(line); i++ {
		v, ok := hexVal(line[i])
		if !ok {
			break
		}
		if i == 16 {
			return ErrBadChunk
		}
		size = size<<4 | uint64(v)
	}
	if i == 0 {
		return ErrBadChunk
	}
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	if i < len(line) {
		if line[i] != ';' {
			return ErrBadChunk
		}
		for _, b := range line[i+1:] {
			if b < ' ' && b != '\t' || b == 0x7f {
				return ErrBadChunk
			}
		}
	}
	if size == 0 {
		c.state = chTrailer
		return nil
	}
	c.left = size
	c.state = chData
	return nil
}

func hexVal(c byte) (byte, bool) {
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
