package policy

import (
	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// Token source kinds.
const (
	srcBearer = iota
	srcQuery
	srcHeader
	srcCookie
)

type tokenSource struct {
	kind int
	name string // query parameter or cookie name as configured; header name lower-cased
}

func compileSources(ts []config.TokenSource) ([]tokenSource, error) {
	if len(ts) == 0 {
		return []tokenSource{{kind: srcBearer}}, nil
	}
	out := make([]tokenSource, 0, len(ts))
	for _, s := range ts {
		var k int
		switch s.Type {
		case "bearer":
			k = srcBearer
		case "query":
			k = srcQuery
		case "header":
			k = srcHeader
		case "cookie":
			k = srcCookie
		default:
			return nil, errorf("invalid token source type %q", s.Type)
		}
		name := s.Name
		if k == srcHeader {
			name = lowerASCII(name)
		}
		if k != srcBearer && name == "" {
			return nil, errorf("token source %q needs a name", s.Type)
		}
		out = append(out, tokenSource{kind: k, name: name})
	}
	return out, nil
}

// Token extracts the token from req, trying the configured token sources in
// order (default bearer):
//
//   - bearer: "Authorization: Bearer <t>", scheme case-insensitive;
//   - query: the named query parameter, percent-decoded ('+' is a space)
//     into scratch;
//   - header: the named header's value;
//   - cookie: the named cookie (exact name, optional double quotes removed)
//     from any Cookie header.
//
// An empty value counts as absent; token is nil when no source has one.
// token is a view into req's parsed buffer (valid while that buffer is
// unchanged) or into newScratch (valid until scratch is reused). Pass
// newScratch back on the next call: Token allocates only when scratch is too
// small for a query token.
func (a *JWT) Token(req *httpparse.Request, scratch []byte) (token, newScratch []byte) {
	for i := range a.sources {
		s := &a.sources[i]
		token = nil
		switch s.kind {
		case srcBearer:
			token = bearer(req.Header("authorization"))
		case srcHeader:
			token = req.Header(s.name)
		case srcQuery:
			token, scratch = queryParam(req.Query, s.name, scratch)
		case srcCookie:
			for j := range req.Headers {
				h := &req.Headers[j]
				if equalFoldASCII(h.Name, "cookie") {
					if token = cookie(h.Value, s.name); len(token) > 0 {
						break
					}
				}
			}
		}
		if len(token) > 0 {
			return token, scratch
		}
	}
	return nil, scratch
}

// bearer returns the credentials of an "Authorization: Bearer <t>" value.
func bearer(v []byte) []byte {
	const scheme = "bearer"
	if len(v) <= len(scheme) || !equalFoldASCII(v[:len(scheme)], scheme) || (v[len(scheme)] != ' ' && v[len(scheme)] != '\t') {
		return nil
	}
	return trimSpace(v[len(scheme):])
}

// queryParam decodes the first non-empty value of parameter name into
// scratch.
func queryParam(q []byte, name string, scratch []byte) (tok, newScratch []byte) {
	for len(q) > 0 {
		var k, v []byte
		k, v, q = httpparse.NextParam(q)
		if len(v) == 0 || !queryKeyIs(k, name) {
			continue
		}
		out, err := httpparse.AppendUnescapeQuery(scratch[:0], v)
		scratch = out[:0]
		if err == nil && len(out) > 0 {
			return out, scratch
		}
	}
	return nil, scratch
}

// queryKeyIs reports whether the percent-encoded query key enc decodes to
// name, without allocating.
func queryKeyIs(enc []byte, name string) bool {
	j := 0
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		switch c {
		case '%':
			if i+2 >= len(enc) {
				return false
			}
			hi, ok1 := unhex(enc[i+1])
			lo, ok2 := unhex(enc[i+2])
			if !ok1 || !ok2 {
				return false
			}
			c = hi<<4 | lo
			i += 2
		case '+':
			c = ' '
		}
		if j >= len(name) || name[j] != c {
			return false
		}
		j++
	}
	return j == len(name)
}

// cookie returns the value of cookie name in a Cookie header value
// ("a=1; b=2"), or nil.
func cookie(v []byte, name string) []byte {
	for len(v) > 0 {
		pair := v
		v = nil
		for i, c := range pair {
			if c == ';' {
				pair, v = pair[:i], pair[i+1:]
				break
			}
		}
		pair = trimSpace(pair)
		if len(pair) <= len(name) || pair[len(name)] != '=' || string(pair[:len(name)]) != name {
			continue
		}
		val := trimSpace(pair[len(name)+1:])
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if len(val) > 0 {
			return val
		}
	}
	return nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFoldASCII compares b with the lower-case string lower ignoring ASCII
// case.
func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
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
