package fga

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of OpenFGA's Check API on the tuple key, in characters.
const (
	maxObject = 256
	maxUser   = 512
)

// Placeholders of an object template.
const (
	litPart = iota
	bucketPart
	keyPart
	prefixPart
	subjectPart
)

var placeholders = map[string]int{"{bucket}": bucketPart, "{key}": keyPart, "{prefix}": prefixPart, "{subject}": subjectPart}

// errTemplate: the object template is not "<type>:<id>" of literals and
// known placeholders.
var errTemplate = errors.New("fga: invalid object template")

type part struct {
	kind int
	lit  string
}

// template is a parsed object template: "<typ>:" then parts.
type template struct {
	prefix string // "<type>:"
	parts  []part
}

// parseTemplate parses "<type>:<id>"; the type is literal and the id is
// literal text and placeholders.
func parseTemplate(s string) (template, error) {
	typ, id, ok := strings.Cut(s, ":")
	if !ok || typ == "" || id == "" || strings.ContainsAny(typ, "{}#@") || !validID(typ) {
		return template{}, fmt.Errorf(`%w %q: want "<type>:<id>", like "bucket:{bucket}"`, errTemplate, s)
	}
	t := template{prefix: typ + ":"}
	for id != "" {
		i := strings.IndexByte(id, '{')
		if i < 0 {
			t.parts = append(t.parts, part{lit: id})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: id[:i]})
		}
		j := strings.IndexByte(id[i:], '}')
		if j < 0 {
			return template{}, fmt.Errorf("%w %q: unclosed placeholder", errTemplate, s)
		}
		k, ok := placeholders[id[i:i+j+1]]
		if !ok {
			return template{}, fmt.Errorf("%w %q: unknown placeholder %s", errTemplate, s, id[i:i+j+1])
		}
		t.parts = append(t.parts, part{kind: k})
		id = id[i+j+1:]
	}
	for _, p := range t.parts {
		if p.kind == litPart && (strings.ContainsRune(p.lit, '}') || !validID(p.lit)) {
			return template{}, fmt.Errorf("%w %q: invalid character in %q", errTemplate, s, p.lit)
		}
	}
	return t, nil
}

// expand appends the object for bucket, key and subject to dst.
func (t *template) expand(dst []byte, bucket, key, subject string) []byte {
	dst = append(dst, t.prefix...)
	for _, p := range t.parts {
		switch p.kind {
		case litPart:
			dst = append(dst, p.lit...)
		case bucketPart:
			dst = append(dst, bucket...)
		case keyPart:
			dst = append(dst, key...)
		case prefixPart:
			if i := strings.LastIndexByte(key, '/'); i >= 0 {
				dst = append(dst, key[:i]...)
			}
		case subjectPart:
			dst = append(dst, subject...)
		}
	}
	return dst
}

// validID reports whether s may be the id (or type) of an OpenFGA object
// or user: not empty, valid UTF-8, without ':', '#', whitespace or control
// characters (OpenFGA's own tuple validation).
func validID(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == ':' || r == '#' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// checkObject returns "" when object ("<type>:<id>", the type known valid)
// can be checked, or the reason it cannot.
func checkObject(object string, typeLen int) string {
	id := object[typeLen:]
	switch {
	case !validID(id) || id == "*":
		return "object " + strconv.Quote(object) + " is not a valid OpenFGA object id"
	case utf8.RuneCountInString(object) > maxObject:
		return "object " + strconv.Quote(object[:min(len(object), 64)]+"…") + " is longer than OpenFGA allows"
	}
	return ""
}
