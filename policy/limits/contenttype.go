package limits

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// ErrContentType: the request's Content-Type is not allowed on the route
// (the gateway answers 400 InvalidArgument).
var ErrContentType = errors.New("limits: content type not allowed")

// MatchContentType reports whether the Content-Type value ct is allowed by
// patterns (see the package doc): true for no patterns, else whether one
// matches ct's media type.
func MatchContentType(patterns []string, ct []byte) bool {
	if len(patterns) == 0 {
		return true
	}
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.Trim(ct, " \t")
	typ, sub, ok := bytes.Cut(ct, []byte{'/'})
	for _, p := range patterns {
		if p == "*" || p == "*/*" {
			return true
		}
		if !ok {
			continue
		}
		pt, ps, _ := strings.Cut(p, "/")
		if glob(pt, typ) && glob(ps, sub) {
			return true
		}
	}
	return false
}

// glob matches s against p, where '*' matches any run of bytes except '/'
// and other bytes match ASCII case-insensitively.
func glob(p string, s []byte) bool {
	// The classic single-backtrack wildcard match: on a mismatch, let the
	// last '*' absorb one more byte.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && lower(p[pi]) == lower(s[si]) && s[si] != '/':
			pi++
			si++
		case star >= 0 && s[mark] != '/':
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// ValidatePattern checks one allowed_content_types entry: "*", or
// "type/subtype" where each side is non-empty and made of RFC 9110 token
// characters and '*'.
func ValidatePattern(p string) error {
	if p == "*" {
		return nil
	}
	typ, sub, ok := strings.Cut(p, "/")
	if !ok || typ == "" || sub == "" || strings.Contains(sub, "/") {
		return fmt.Errorf("invalid content type pattern %q: want type/subtype, like \"image/*\" or \"application/pdf\"", p)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c != '/' && !isToken(c) {
			return fmt.Errorf("invalid content type pattern %q: character %q not allowed", p, c)
		}
	}
	return nil
}

// isToken reports whether c is an RFC 9110 tchar ('*' is one).
func isToken(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
