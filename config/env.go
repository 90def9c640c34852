package config

import (
	"errors"
	"fmt"
	"strings"
)

// expandEnv substitutes environment references in one scalar value:
//
//	${VAR}          the value of VAR; an error when VAR is unset
//	${VAR:-default} default when VAR is unset or empty
//	${VAR-default}  default when VAR is unset (the original docs list it)
//	$$              a literal '$'
//
// A '$' followed by anything else is kept as is, so "pa$word" needs no
// escaping; a literal "${" is written "$${". VAR is [A-Za-z_][A-Za-z0-9_]*.
// The default is taken literally up to the first '}' (no nesting).
//
// Substitution runs on each YAML scalar after the document is parsed and
// before it is decoded into Go values, not on the raw text: a value with
// YAML-special characters (a secret containing "#" or ": ") cannot change the
// document's structure, references inside comments are not expanded, and
// errors carry the key path and line of the scalar.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	i := strings.IndexByte(s, '$')
	if i < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$$"):
			b.WriteByte('$')
			s = s[2:]
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				// The value is never quoted: it may hold a secret.
				return "", errors.New("unterminated variable reference: a ${ without } (write $${ for a literal ${)")
			}
			v, err := lookupRef(s[2:end], lookup)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			s = s[end+1:]
		default:
			b.WriteByte('$')
			s = s[1:]
		}
		i = strings.IndexByte(s, '$')
	}
	b.WriteString(s)
	return b.String(), nil
}

func lookupRef(ref string, lookup func(string) (string, bool)) (string, error) {
	n := 0
	for n < len(ref) && isNameByte(ref[n], n == 0) {
		n++
	}
	name, op := ref[:n], ref[n:]
	if name == "" {
		// ref is never quoted: a default may hold a secret.
		return "", errors.New("invalid variable reference: no variable name after ${; want ${NAME}, ${NAME:-default} or ${NAME-default}")
	}
	val, set := lookup(name)
	switch {
	case op == "":
		if !set {
			return "", fmt.Errorf("environment variable %q is not set (use ${%s:-default} to give a default)", name, name)
		}
		return val, nil
	case strings.HasPrefix(op, ":-"):
		if !set || val == "" {
			return op[2:], nil
		}
		return val, nil
	case strings.HasPrefix(op, "-"):
		if !set {
			return op[1:], nil
		}
		return val, nil
	}
	return "", fmt.Errorf("invalid variable reference to %q: want ${NAME}, ${NAME:-default} or ${NAME-default}", name)
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}
