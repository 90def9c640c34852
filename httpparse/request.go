package httpparse

import (
	"bytes"
	"encoding/binary"
)

// Request is a parsed HTTP/1.x request head. Every []byte field is a view
// into the buffer last given to Parse: it stays valid only while that buffer
// is unchanged. Copy what must outlive it (for gnet, before OnTraffic
// returns or before the buffer is discarded).
type Request struct {
	// MaxHeadSize limits the head, final CRLFCRLF included. 0 means
	// DefaultMaxHeadSize. Parse returns ErrHeadTooLarge as soon as the
	// buffer holds more than MaxHeadSize bytes without a complete head.
	MaxHeadSize int
	// MaxHeaders limits the number of field lines. 0 means DefaultMaxHeaders.
	MaxHeaders int

	Method []byte
	URI    []byte // raw request-target as sent (always origin-form)
	Path   []byte // raw (still percent-encoded) part of URI before '?'
	Query  []byte // raw part after the first '?', without it; nil if no '?'
	Minor  int    // 0 for HTTP/1.0, 1 for HTTP/1.1
	// Headers holds every field line in order. Its backing array is reused
	// across Reset and Parse.
	Headers []Header

	Host          []byte // value of the single Host field; nil if absent (HTTP/1.0 only)
	ContentLength int64  // -1 when absent
	Chunked       bool   // Transfer-Encoding: chunked
	Expect100     bool   // Expect: 100-continue (case-insensitive)
	Close         bool   // Connection: close, or HTTP/1.0 without Connection: keep-alive
}

// Reset clears the parsed fields, keeping MaxHeadSize, MaxHeaders and the
// Headers backing array.
func (r *Request) Reset() {
	*r = Request{
		MaxHeadSize:   r.MaxHeadSize,
		MaxHeaders:    r.MaxHeaders,
		Headers:       r.Headers[:0],
		ContentLength: -1,
	}
}

// Header returns the first value of the field named lowerName (which must
// be lower case), matching names without regard to ASCII case; nil if
// absent. The result is a view into the parsed buffer.
func (r *Request) Header(lowerName string) []byte {
	return lookup(r.Headers, lowerName)
}

// Parse parses the request head at the start of buf. On success n is the
// length of the head including the final CRLFCRLF; the body, if any,
// starts at buf[n]. ErrNeedMore means buf holds an incomplete (so far
// valid) head. Parse resets r first, so r can be reused after any error.
// It does not allocate once Headers has grown to fit.
func (r *Request) Parse(buf []byte) (n int, err error) {
	r.Reset()
	b, cut := limit(buf, r.MaxHeadSize)
	n, err = r.parse(b)
	if err == ErrNeedMore && cut {
		err = ErrHeadTooLarge
		if bytes.IndexByte(b, '\n') < 0 {
			err = ErrURITooLong // no field yet: the request line is the culprit
		}
	}
	return n, err
}

func (r *Request) parse(buf []byte) (int, error) {
	// method SP
	pos := 0
	for pos < len(buf) && charClass[buf[pos]]&cToken != 0 {
		pos++
	}
	if pos >= len(buf) {
		return 0, ErrNeedMore
	}
	if buf[pos] != ' ' || pos == 0 {
		return 0, ErrMalformed
	}
	r.Method = buf[:pos]
	pos++

	// request-target SP: origin-form only.
	start := pos
	if pos >= len(buf) {
		return 0, ErrNeedMore
	}
	if buf[pos] == '*' {
		return 0, asteriskForm(buf[pos+1:])
	}
	if buf[pos] != '/' {
		return 0, ErrMalformed
	}
	q := -1
	slow := 0 // a word at slow-8 failed plainURI8: bytes before slow go one by one
	for pos < len(buf) {
		if pos >= slow && pos+8 <= len(buf) {
			if plainURI8(binary.LittleEndian.Uint64(buf[pos:])) {
				pos += 8 // eight URI bytes, none of them '?' or '%' (uriscan.go)
				continue
			}
			slow = pos + 8
		}
		c := buf[pos]
		if charClass[c]&cURI == 0 {
			break
		}
		switch c {
		case '?':
			if q < 0 {
				q = pos
			}
		case '%':
			for i := pos + 1; i <= pos+2; i++ {
				if i >= len(buf) {
					return 0, ErrNeedMore
				}
				if charClass[buf[i]]&cHex == 0 {
					return 0, ErrMalformed
				}
			}
			pos += 2
		}
		pos++
	}
	if pos >= len(buf) {
		return 0, ErrNeedMore
	}
	if buf[pos] != ' ' {
		return 0, ErrMalformed
	}
	r.URI = buf[start:pos]
	if q >= 0 {
		r.Path = buf[start:q]
		r.Query = buf[q+1 : pos]
	} else {
		r.Path = r.URI
	}
	pos++

	// HTTP-version CRLF
	minor, err := parseVersion(buf[pos:])
	if err != nil {
		return 0, err
	}
	r.Minor = minor
	pos += 8
	if err := expectCRLF(buf, pos); err != nil {
		return 0, err
	}
	pos += 2

	var f fields
	f.cl = -1
	pos, r.Headers, err = parseFields(buf, pos, r.Headers, maxHeaders(r.MaxHeaders), &f)
	if err != nil {
		return 0, err
	}
	if err := f.finish(minor); err != nil {
		return 0, err
	}
	if minor == 1 && !f.hostSeen {
		return 0, ErrMalformed // RFC 9112 3.2
	}
	r.Host = f.host
	r.ContentLength = f.cl
	r.Chunked = f.teSeen
	r.Expect100 = f.expect100
	r.Close = f.close(minor)
	return pos, nil
}

// asteriskForm judges a request-target "*" (b follows the '*'). It is not
// served (ErrMalformed), but a well-formed line with a version we do not
// speak is ErrUnsupportedVersion first: the HTTP/2 connection preface
// "PRI * HTTP/2.0" is answered 505, not 400.
func asteriskForm(b []byte) error {
	if len(b) == 0 {
		return ErrNeedMore
	}
	if b[0] != ' ' {
		return ErrMalformed
	}
	if _, err := parseVersion(b[1:]); err != nil {
		return err
	}
	return ErrMalformed
}
