package keytemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Default is the template of a route without key_template: the client's key.
const Default = "{key}"

var (
	// ErrSyntax: Compile refused the template. The error wraps it with the
	// reason.
	ErrSyntax = errors.New("keytemplate: invalid template")
	// ErrInvalid: Append could not fill the template for this request (a
	// missing claim, an empty subject, a value with '/', "." or "..", or a
	// control character). S3 403 AccessDenied.
	ErrInvalid = errors.New("keytemplate: invalid template value")
)

// Vars are the values of one request.
type Vars struct {
	Key     []byte         // the client's decoded key
	Subject string         // the authenticated subject
	Claims  map[string]any // verified JWT claims, nil for other methods
	Now     time.Time      // the request time; {date} is its UTC day
	Route   string         // the route (bucket) name
}

// Template is a compiled key template. It is immutable and safe for
// concurrent use.
type Template struct {
	src      string
	parts    []part
	identity bool
}

type partKind uint8

const (
	partLiteral partKind = iota
	partKey
	partSubject
	partRoute
	partDate
	partClaim
)

type part struct {
	kind partKind
	text string   // partLiteral: the text; partClaim: the full claim name ("a.b")
	path []string // partClaim: the name split at '.'
}

// Compile parses tmpl (see the package doc). Errors wrap ErrSyntax.
func Compile(tmpl string) (*Template, error) {
	t := &Template{src: tmpl}
	if err := t.parse(); err != nil {
		return nil, fmt.Errorf("%w %q: %s", ErrSyntax, tmpl, err)
	}
	t.identity = len(t.parts) == 1 && t.parts[0].kind == partKey
	return t, nil
}

func (t *Template) parse() error {
	s := t.src
	switch {
	case s == "":
		return errors.New("empty")
	case len(s) > MaxKeyLen:
		return fmt.Errorf("longer than %d bytes", MaxKeyLen)
	}
	hasKey := false
	for s != "" {
		i := strings.IndexAny(s, "{}")
		if i != 0 {
			if i < 0 {
				i = len(s)
			}
			t.parts = append(t.parts, part{kind: partLiteral, text: s[:i]})
			s = s[i:]
			continue
		}
		if s[0] == '}' {
			return errors.New("'}' without '{'")
		}
		end := strings.IndexAny(s[1:], "{}")
		if end < 0 || s[1+end] != '}' {
			return errors.New("'{' without '}'")
		}
		name := s[1 : 1+end]
		s = s[2+end:]
		p := part{}
		switch name {
		case "key":
			p.kind, hasKey = partKey, true
		case "subject":
			p.kind = partSubject
		case "route":
			p.kind = partRoute
		case "date":
			p.kind = partDate
		default:
			claim, ok := strings.CutPrefix(name, "claims.")
			if !ok {
				return fmt.Errorf("unknown placeholder {%s}: want {key}, {subject}, {route}, {date} or {claims.NAME}", name)
			}
			p.kind, p.text, p.path = partClaim, claim, strings.Split(claim, ".")
			for _, seg := range p.path {
				if seg == "" {
					return fmt.Errorf("invalid claim name in {%s}", name)
				}
			}
		}
		t.parts = append(t.parts, p)
	}
	if !hasKey {
		return errors.New("{key} is missing")
	}
	for i, p := range t.parts {
		if p.kind == partLiteral {
			if err := checkLiteral(p.text, i > 0, i < len(t.parts)-1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkLiteral checks literal text; after and before tell whether a
// placeholder precedes or follows it.
func checkLiteral(lit string, after, before bool) error {
	if !validText([]byte(lit)) {
		return fmt.Errorf("literal %q: invalid UTF-8 or a control character", lit)
	}
	pieces := strings.Split(lit, "/")
	for i, p := range pieces {
		if p == "" || strings.Trim(p, ".") != "" {
			continue
		}
		if i == 0 && after || i == len(pieces)-1 && before {
			return fmt.Errorf("literal %q: dots only next to a placeholder", lit)
		}
		if len(p) <= 2 {
			return fmt.Errorf("literal %q: a %q path segment", lit, p)
		}
	}
	return nil
}

// String returns the template's source.
func (t *Template) String() string { return t.src }

// IsIdentity reports whether t is Default: Append only copies the key.
func (t *Template) IsIdentity() bool { return t.identity }

// Append appends the key for v to dst, or returns dst unchanged and
// ErrInvalid. It does not check v.Key (see ValidateKey).
func (t *Template) Append(dst []byte, v *Vars) ([]byte, error) {
	if t.identity {
		return append(dst, v.Key...), nil
	}
	base := len(dst)
	for i := range t.parts {
		p := &t.parts[i]
		start := len(dst)
		switch p.kind {
		case partLiteral:
			dst = append(dst, p.text...)
			continue
		case partKey:
			dst = append(dst, v.Key...)
			continue
		case partSubject:
			dst = append(dst, v.Subject...)
		case partRoute:
			dst = append(dst, v.Route...)
		case partDate:
			var ok bool
			if dst, ok = appendDate(dst, v.Now); !ok {
				return dst[:base], ErrInvalid
			}
		case partClaim:
			c, ok := claim(v.Claims, p)
			if !ok {
				return dst[:base], ErrInvalid
			}
			if dst, ok = appendClaim(dst, c); !ok {
				return dst[:base], ErrInvalid
			}
		}
		if !validValue(dst[start:]) {
			return dst[:base], ErrInvalid
		}
	}
	return dst, nil
}

// validValue: not empty, not "." or "..", no '/', valid text.
func validValue(b []byte) bool {
	if len(b) == 0 || len(b) <= 2 && b[0] == '.' && b[len(b)-1] == '.' {
		return false
	}
	for _, c := range b {
		if c == '/' {
			return false
		}
	}
	return validText(b)
}

func appendDate(dst []byte, now time.Time) ([]byte, bool) {
	y, m, d := now.UTC().Date()
	if y < 0 || y > 9999 {
		return dst, false
	}
	dst = append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return dst, true
}

// claim looks up p's claim: the full name first, then the nested path.
func claim(claims map[string]any, p *part) (any, bool) {
	if c, ok := claims[p.text]; ok || len(p.path) == 1 {
		return c, ok
	}
	var c any = claims
	for _, name := range p.path {
		m, ok := c.(map[string]any)
		if !ok {
			return nil, false
		}
		if c, ok = m[name]; !ok {
			return nil, false
		}
	}
	return c, true
}

// appendClaim formats a string or number claim. Integral numbers below 2^63
// are written as integers; other finite numbers in strconv's shortest 'g'
// form.
func appendClaim(dst []byte, c any) ([]byte, bool) {
	switch c := c.(type) {
	case string:
		return append(dst, c...), true
	case json.Number:
		return append(dst, c...), true
	case float64:
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return dst, false
		}
		if c == math.Trunc(c) && math.Abs(c) < 1<<63 {
			return strconv.AppendInt(dst, int64(c), 10), true
		}
		return strconv.AppendFloat(dst, c, 'g', -1, 64), true
	case int:
		return strconv.AppendInt(dst, int64(c), 10), true
	case int64:
		return strconv.AppendInt(dst, c, 10), true
	case uint64:
		return strconv.AppendUint(dst, c, 10), true
	}
	return dst, false
}
