package httpparse

// Header is one field line. Name and Value are views into the buffer given
// to Parse and stay valid only while that buffer is unchanged. Value has
// leading and trailing SP/HT removed.
type Header struct{ Name, Value []byte }

const (
	// DefaultMaxHeadSize is the head size limit used when MaxHeadSize is 0.
	DefaultMaxHeadSize = 64 << 10
	// DefaultMaxHeaders is the field count limit used when MaxHeaders is 0.
	DefaultMaxHeaders = 128
)

// initialHeaders is the capacity allocated on the first Parse so that a
// typical S3 head (10-20 fields) never grows the slice again.
const initialHeaders = 32

// lookup returns the first value whose name matches lowerName ignoring
// ASCII case, or nil.
func lookup(hs []Header, lowerName string) []byte {
	for i := range hs {
		if equalLower(hs[i].Name, lowerName) {
			return hs[i].Value
		}
	}
	return nil
}

// fields holds what the field parser learned about framing.
type fields struct {
	host      []byte
	hostSeen  bool
	clSeen    bool
	teSeen    bool
	teBad     bool // a Transfer-Encoding other than one "chunked": 501, once the head parsed
	teChunked bool // "chunked" is among the codings
	teLastCh  bool // the last coding listed so far is "chunked"
	expect100 bool
	connClose bool
	connKeep  bool
	cl        int64
}

// parseFields parses field lines starting at buf[pos] up to and including
// the empty line. It returns the offset just past the final CRLF.
// Invariant: buf is already cut to the head size limit.
func parseFields(buf []byte, pos int, hs []Header, maxHeaders int, f *fields) (int, []Header, error) {
	for {
		if pos >= len(buf) {
			return 0, hs, ErrNeedMore
		}
		switch buf[pos] {
		case '\r':
			if pos+1 >= len(buf) {
				return 0, hs, ErrNeedMore
			}
			if buf[pos+1] != '\n' {
				return 0, hs, ErrMalformed
			}
			return pos + 2, hs, nil
		case ' ', '\t':
			return 0, hs, ErrObsFold
		}
		start := pos
		for pos < len(buf) && charClass[buf[pos]]&cToken != 0 {
			pos++
		}
		if pos >= len(buf) {
			return 0, hs, ErrNeedMore
		}
		// Catches an empty name, whitespace before the colon, bare LF,
		// CR and every other non-token byte in the name.
		if buf[pos] != ':' || pos == start {
			return 0, hs, ErrMalformed
		}
		name := buf[start:pos]
		pos++
		for pos < len(buf) && (buf[pos] == ' ' || buf[pos] == '\t') {
			pos++
		}
		vstart := pos
		pos = scanValue(buf, pos)
		if pos+1 >= len(buf) {
			if pos < len(buf) && buf[pos] != '\r' {
				return 0, hs, ErrMalformed
			}
			return 0, hs, ErrNeedMore
		}
		if buf[pos] != '\r' || buf[pos+1] != '\n' {
			return 0, hs, ErrMalformed // control char, NUL, bare CR or bare LF
		}
		vend := pos
		for vend > vstart && (buf[vend-1] == ' ' || buf[vend-1] == '\t') {
			vend--
		}
		value := buf[vstart:vend]
		pos += 2
		if len(hs) >= maxHeaders {
			return 0, hs, ErrTooManyHeaders
		}
		if cap(hs) == 0 {
			hs = make([]Header, 0, min(initialHeaders, maxHeaders))
		}
		hs = append(hs, Header{Name: name, Value: value})
		if err := f.note(name, value); err != nil {
			return 0, hs, err
		}
	}
}

// note records the framing-relevant fields.
func (f *fields) note(name, value []byte) error {
	switch len(name) {
	case 4:
		if equalLower(name, "host") {
			if f.hostSeen {
				return ErrMalformed
			}
			f.hostSeen = true
			f.host = value
		}
	case 6:
		if equalLower(name, "expect") && equalLower(value, "100-continue") {
			f.expect100 = true
		}
	case 10:
		if equalLower(name, "connection") {
			f.noteConnection(value)
		}
	case 14:
		if equalLower(name, "content-length") {
			if f.clSeen {
				return ErrBadContentLength
			}
			f.clSeen = true
			n, ok := parseContentLength(value)
			if !ok {
				return ErrBadContentLength
			}
			f.cl = n
		}
	case 17:
		if equalLower(name, "transfer-encoding") {
			// Refused in finish, not here: a syntax error later in the
			// head (an obs-folded continuation of this very field, say)
			// is a 400, not a 501.
			if f.teSeen || !equalLower(value, "chunked") {
				f.teBad = true
			}
			f.teSeen = true
			f.noteCodings(value)
		}
	}
	return nil
}

// noteCodings follows where "chunked" sits in the Transfer-Encoding list
// (all fields together, as RFC 9110 5.3 combines them).
func (f *fields) noteCodings(v []byte) {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if tok := trimOWS(v[:i]); len(tok) > 0 {
			f.teLastCh = equalLower(tok, "chunked")
			f.teChunked = f.teChunked || f.teLastCh
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
}

// noteConnection scans a comma-separated token list for close/keep-alive.
func (f *fields) noteConnection(v []byte) {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		tok := trimOWS(v[:i])
		if equalLower(tok, "close") {
			f.connClose = true
		} else if equalLower(tok, "keep-alive") {
			f.connKeep = true
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
}

// finish applies the checks that need the whole head.
func (f *fields) finish(minor int) error {
	if f.teChunked && !f.teLastCh {
		// RFC 9112 6.3: chunked not last leaves the length unknown: 400
		// and close, not the 501 of a coding we merely do not support.
		return ErrChunkedNotLast
	}
	if f.teBad {
		return ErrUnsupportedTransferEncoding
	}
	if f.teSeen {
		if f.clSeen {
			return ErrAmbiguousLength
		}
		if minor == 0 {
			// RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
			return ErrMalformed
		}
	}
	return nil
}

func (f *fields) close(minor int) bool {
	return f.connClose || minor == 0 && !f.connKeep
}

// parseContentLength accepts 1*DIGIT that fits in int64.
func parseContentLength(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	const maxInt64 = 1<<63 - 1
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (maxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseVersion parses "HTTP/1.0" or "HTTP/1.1" at the start of b.
func parseVersion(b []byte) (minor int, err error) {
	const proto = "HTTP/"
	n := min(len(b), len(proto))
	if string(b[:n]) != proto[:n] {
		return 0, ErrMalformed
	}
	if len(b) < 8 {
		return 0, ErrNeedMore
	}
	if b[5] < '0' || b[5] > '9' || b[6] != '.' || b[7] < '0' || b[7] > '9' {
		return 0, ErrMalformed
	}
	if b[5] != '1' || b[7] > '1' {
		return 0, ErrUnsupportedVersion
	}
	return int(b[7] - '0'), nil
}

// expectCRLF checks for CRLF at buf[pos].
func expectCRLF(buf []byte, pos int) error {
	if pos >= len(buf) {
		return ErrNeedMore
	}
	if buf[pos] != '\r' {
		return ErrMalformed
	}
	if pos+1 >= len(buf) {
		return ErrNeedMore
	}
	if buf[pos+1] != '\n' {
		return ErrMalformed
	}
	return nil
}

// limit cuts buf to max bytes and reports whether it did.
func limit(buf []byte, max int) ([]byte, bool) {
	if max <= 0 {
		max = DefaultMaxHeadSize
	}
	if len(buf) > max {
		return buf[:max], true
	}
	return buf, false
}

func maxHeaders(n int) int {
	if n <= 0 {
		return DefaultMaxHeaders
	}
	return n
}
