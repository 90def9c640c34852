package sigv4

// Form checks for aws-chunked lines whose content is not otherwise
// verified: the extensions of an unsigned body and the signatures of a
// body whose key is unknown (InitUnverified).

// plainExtensions reports whether chunk extensions (from the ';') hold no
// control characters but HTAB: a bare CR or a NUL there is how another
// parser is told a line ended.
func plainExtensions(ext []byte) bool {
	for _, c := range ext {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// lowerHex reports whether b is lower-case hex, as SigV4 signatures are.
func lowerHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
