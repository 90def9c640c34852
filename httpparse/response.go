package httpparse

// Response is a parsed HTTP/1.x response head. Every []byte field is a view
// into the buffer last given to Parse: it stays valid only while that buffer
// is unchanged.
//
// ContentLength and Chunked report the fields as sent; the caller applies
// the rules that depend on the request (HEAD) and the status (1xx, 204,
// 304), and reads until close when neither is present.
type Response struct {
	// MaxHeadSize and MaxHeaders work as in Request.
	MaxHeadSize, MaxHeaders int

	Status  int
	Reason  []byte // may be empty
	Minor   int    // 0 for HTTP/1.0, 1 for HTTP/1.1
	Headers []Header

	ContentLength int64 // -1 when absent
	Chunked       bool  // Transfer-Encoding: chunked
	Close         bool  // Connection: close, or HTTP/1.0 without Connection: keep-alive
}

// Reset clears the parsed fields, keeping the limits and the Headers
// backing array.
func (r *Response) Reset() {
	*r = Response{
		MaxHeadSize:   r.MaxHeadSize,
		MaxHeaders:    r.MaxHeaders,
		Headers:       r.Headers[:0],
		ContentLength: -1,
	}
}

// Header returns the first value of the field named lowerName (lower
// case), matching without regard to ASCII case; nil if absent.
func (r *Response) Header(lowerName string) []byte {
	return lookup(r.Headers, lowerName)
}

// Parse parses the response head at the start of buf, with the same
// contract as Request.Parse. The status line is
// HTTP-version SP 3DIGIT [SP reason] CRLF; the status must be 100..599.
func (r *Response) Parse(buf []byte) (n int, err error) {
	r.Reset()
	b, cut := limit(buf, r.MaxHeadSize)
	n, err = r.parse(b)
	if err == ErrNeedMore && cut {
		err = ErrHeadTooLarge
	}
	return n, err
}

func (r *Response) parse(buf []byte) (int, error) {
	minor, err := parseVersion(buf)
	if err != nil {
		return 0, err
	}
	r.Minor = minor
	pos := 8
	if len(buf) < pos+4 {
		// Check what is there so garbage fails fast.
		for i := pos; i < len(buf); i++ {
			if i == pos && buf[i] != ' ' || i > pos && (buf[i] < '0' || buf[i] > '9') {
				return 0, ErrMalformed
			}
		}
		return 0, ErrNeedMore
	}
	if buf[pos] != ' ' {
		return 0, ErrMalformed
	}
	status := 0
	for _, c := range buf[pos+1 : pos+4] {
		if c < '0' || c > '9' {
			return 0, ErrMalformed
		}
		status = status*10 + int(c-'0')
	}
	if status < 100 || status > 599 {
		return 0, ErrMalformed
	}
	r.Status = status
	pos += 4
	if pos >= len(buf) {
		return 0, ErrNeedMore
	}
	start := pos
	if buf[pos] == ' ' {
		pos++
		start = pos
		for pos < len(buf) && charClass[buf[pos]]&cValue != 0 {
			pos++
		}
	}
	if err := expectCRLF(buf, pos); err != nil {
		return 0, err
	}
	r.Reason = buf[start:pos]
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
	r.ContentLength = f.cl
	r.Chunked = f.teSeen
	r.Close = f.close(minor)
	return pos, nil
}
