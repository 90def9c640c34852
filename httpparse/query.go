package httpparse

// NextParam splits the first key[=value] pair off the raw query q (pairs
// separated by '&'). key and value are still percent-encoded; value is nil
// when the pair has no '='; rest is what follows the '&' (nil at the end).
// Empty pairs ("a&&b") yield an empty key. All results are views into q.
//
//	for len(q) > 0 {
//		var k, v []byte
//		k, v, q = httpparse.NextParam(q)
//		...
//	}
func NextParam(q []byte) (key, value, rest []byte) {
	pair := q
	for i, c := range q {
		if c == '&' {
			pair, rest = q[:i], q[i+1:]
			break
		}
	}
	for i, c := range pair {
		if c == '=' {
			return pair[:i], pair[i+1:], rest
		}
	}
	return pair, nil, rest
}

// AppendUnescape appends the percent-decoded src to dst. '+' stays '+' (as
// in paths; S3 object keys may contain '+'). An invalid escape returns dst
// unchanged and ErrMalformed. It allocates only if dst is too small.
func AppendUnescape(dst, src []byte) ([]byte, error) {
	return appendUnescape(dst, src, false)
}

// AppendUnescapeQuery is AppendUnescape for query keys and values, where
// '+' decodes to a space (application/x-www-form-urlencoded).
func AppendUnescapeQuery(dst, src []byte) ([]byte, error) {
	return appendUnescape(dst, src, true)
}

func appendUnescape(dst, src []byte, plus bool) ([]byte, error) {
	n := len(dst)
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '%':
			if i+2 >= len(src) || charClass[src[i+1]]&cHex == 0 || charClass[src[i+2]]&cHex == 0 {
				return dst[:n], ErrMalformed
			}
			c = unhex(src[i+1])<<4 | unhex(src[i+2])
			i += 2
		case c == '+' && plus:
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst, nil
}
