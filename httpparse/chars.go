package httpparse

// Character classes, one bit each in charClass.
const (
	cToken = 1 << iota // tchar (RFC 9110 5.6.2)
	cValue             // field-vchar, SP, HT (RFC 9110 5.5); obs-text allowed
	cURI               // visible ASCII 0x21..0x7E
	cHex               // HEXDIG
)

var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			t[c] |= cToken
		}
		if c >= 0x21 && c <= 0x7e {
			t[c] |= cURI | cValue
		}
		if c >= 0x80 || c == ' ' || c == '\t' {
			t[c] |= cValue
		}
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' {
			t[c] |= cHex
		}
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] |= cToken
	}
	return t
}()

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c | 0x20
	}
	return c
}

// equalLower reports whether b equals the lower-case ASCII string s,
// ignoring ASCII case in b.
func equalLower(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
