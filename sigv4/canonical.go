package sigv4

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// AppendCanonicalRequest appends the SigV4 canonical request for r to dst:
// method, canonical URI, canonical query, canonical headers, signed headers
// and payload hash, one per line (the headers block ends with its own
// newline), without a trailing newline.
func (s *Signer) AppendCanonicalRequest(dst []byte, r *Request) []byte {
	dst, _, _ = s.appendCanonicalRequest(dst, r)
	return dst
}

// appendCanonicalRequest is AppendCanonicalRequest that also returns where
// the signed headers list sits in the result.
func (s *Signer) appendCanonicalRequest(dst []byte, r *Request) (out []byte, shStart, shEnd int) {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	if len(r.Path) == 0 {
		dst = append(dst, '/')
	} else {
		dst = append(dst, r.Path...)
	}
	dst = append(dst, '\n')
	dst = s.appendCanonicalQuery(dst, r.Query, "")
	dst = append(dst, '\n')

	s.sortHeaders(r.Headers)
	hs := r.Headers
	// Each distinct name is lower-cased once, into the headers block; the
	// signed headers list copies it from there (s.hname: its offset in dst
	// and length, in pairs).
	s.hname = s.hname[:0]
	for i := 0; i < len(s.hidx); {
		name := hs[s.hidx[i]].Name
		off := len(dst)
		dst = appendLower(dst, name)
		s.hname = append(s.hname, off, len(name))
		dst = append(dst, ':')
		dst = appendHeaderValue(dst, hs[s.hidx[i]].Value)
		j := i + 1
		for ; j < len(s.hidx) && equalFoldASCII(hs[s.hidx[j]].Name, name); j++ {
			dst = append(dst, ',')
			dst = appendHeaderValue(dst, hs[s.hidx[j]].Value)
		}
		i = j
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')

	shStart = len(dst)
	for i := 0; i < len(s.hname); i += 2 {
		if i > 0 {
			dst = append(dst, ';')
		}
		off := s.hname[i]
		dst = append(dst, dst[off:off+s.hname[i+1]]...)
	}
	shEnd = len(dst)
	dst = append(dst, '\n')
	dst = append(dst, r.PayloadHash...)
	return dst, shStart, shEnd
}

// sortHeaders fills s.hidx with the indexes of hs in canonical order:
// stable, by lower-cased name, so repeated names keep the caller's order.
func (s *Signer) sortHeaders(hs []Header) {
	s.hidx = s.hidx[:0]
	for i := range hs {
		s.hidx = append(s.hidx, i)
	}
	idx := s.hidx
	if len(idx) <= 32 {
		// Insertion sort: stable, allocation-free and fastest for the
		// dozen or so headers of a real request.
		for i := 1; i < len(idx); i++ {
			for j := i; j > 0 && compareFoldASCII(hs[idx[j-1]].Name, hs[idx[j]].Name) > 0; j-- {
				idx[j-1], idx[j] = idx[j], idx[j-1]
			}
		}
		return
	}
	slices.SortStableFunc(idx, func(a, b int) int { return compareFoldASCII(hs[a].Name, hs[b].Name) })
}

// qparam is one canonical query parameter: name qbuf[k:v], value qbuf[v:e].
type qparam struct{ k, v, e int }

// appendCanonicalQuery appends the canonical form of the raw query q. A
// parameter whose canonical (re-encoded) name equals skip is left out; the
// verifier uses this to drop X-Amz-Signature from a presigned query. An
// empty skip keeps every parameter.
func (s *Signer) appendCanonicalQuery(dst, q []byte, skip string) []byte {
	if len(q) == 0 {
		return dst
	}
	s.qbuf = s.qbuf[:0]
	s.qp = s.qp[:0]
	for len(q) > 0 {
		seg := q
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			seg, q = q[:i], q[i+1:]
		} else {
			q = nil
		}
		if len(seg) == 0 {
			continue
		}
		name, value := seg, seg[len(seg):]
		if i := bytes.IndexByte(seg, '='); i >= 0 {
			name, value = seg[:i], seg[i+1:]
		}
		p := qparam{k: len(s.qbuf)}
		s.qbuf = appendQueryComponent(s.qbuf, name)
		if skip != "" && string(s.qbuf[p.k:]) == skip {
			s.qbuf = s.qbuf[:p.k]
			continue
		}
		p.v = len(s.qbuf)
		s.qbuf = appendQueryComponent(s.qbuf, value)
		p.e = len(s.qbuf)
		s.qp = append(s.qp, p)
	}
	buf := s.qbuf
	slices.SortFunc(s.qp, func(a, b qparam) int {
		if c := bytes.Compare(buf[a.k:a.v], buf[b.k:b.v]); c != 0 {
			return c
		}
		return bytes.Compare(buf[a.v:a.e], buf[b.v:b.e])
	})
	for i, p := range s.qp {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, buf[p.k:p.v]...)
		dst = append(dst, '=')
		dst = append(dst, buf[p.v:p.e]...)
	}
	return dst
}

// appendHeaderValue appends the canonical form of a header value: leading
// and trailing white space removed (as bytes.TrimSpace does) and every inner
// run of spaces collapsed to one. This is what aws-sdk-go-v2 does; tabs
// inside a value are kept.
func appendHeaderValue(dst, v []byte) []byte {
	if canonicalValue(v) {
		return append(dst, v...)
	}
	v = bytes.TrimSpace(v)
	i := bytes.Index(v, doubleSpace)
	if i < 0 {
		return append(dst, v...)
	}
	dst = append(dst, v[:i]...)
	for ; i < len(v); i++ {
		c := v[i]
		if c == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// canonicalValue reports whether appendHeaderValue would keep v as it
// is: it starts and ends with a visible ASCII byte (so bytes.TrimSpace,
// which only looks further at white space and non-ASCII bytes, removes
// nothing) and holds no two spaces in a row. One pass, for the common case
// of values that need no work.
func canonicalValue(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if !visibleASCII(v[0]) || !visibleASCII(v[len(v)-1]) {
		return false
	}
	// Most values hold no space at all: eight bytes at a time first.
	w := v
	for len(w) >= 8 && !hasSpace8(binary.LittleEndian.Uint64(w)) {
		w = w[8:]
	}
	if len(w) < 8 && bytes.IndexByte(w, ' ') < 0 {
		return true
	}
	for i := 1; i < len(v); i++ {
		if v[i] == ' ' && v[i-1] == ' ' {
			return false
		}
	}
	return true
}

func visibleASCII(c byte) bool { return '!' <= c && c <= '~' }

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

var doubleSpace = []byte("  ")

func appendLower(dst, name []byte) []byte {
	if !hasUpperASCII(name) {
		return append(dst, name...)
	}
	for _, c := range name {
		dst = append(dst, lowerASCII(c))
	}
	return dst
}

// equalFoldASCII and compareFoldASCII skip the lower-casing for bytes that
// are equal as they are, the common case for header names.
func equalFoldASCII(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	b = b[:len(a)]
	for i := range a {
		if a[i] != b[i] && lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func compareFoldASCII(a, b []byte) int {
	n := min(len(a), len(b))
	x, y := a[:n], b[:n]
	for i := range x {
		if x[i] == y[i] {
			continue
		}
		ca, cb := lowerASCII(x[i]), lowerASCII(y[i])
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	return len(a) - len(b)
}

// hasUpperASCII reports whether b holds a byte in 'A'..'Z', eight bytes at
// a time (header names are mostly a few words long).
func hasUpperASCII(b []byte) bool {
	for len(b) >= 8 {
		if hasUpper8(binary.LittleEndian.Uint64(b)) {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

const (
	ones64  = 0x0101010101010101
	highs64 = 0x8080808080808080
)

// hasUpper8 reports whether one of the eight bytes of x is in 'A'..'Z'
// (inRange8, exact for every byte value).
func hasUpper8(x uint64) bool { return inRange8(x, 'A', 'Z') != 0 }

// hasSpace8 reports whether one of the eight bytes of x is ' ' (the
// classic zero-byte test on x ^ spaces, exact when used only as "any").
func hasSpace8(x uint64) bool {
	y := x ^ ones64*' '
	return (y-ones64)&^y&highs64 != 0
}
