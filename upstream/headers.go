package upstream

// Forwarded reports whether a client request header (any case) is copied to
// the backend. Everything else (Authorization, Host, hop-by-hop headers,
// x-amz-date, x-amz-content-sha256, ACL grants, copy sources, …) is dropped or
// regenerated. It dispatches on the first letter, so a header pays for the
// few names that start like it (this runs for every client header).
func Forwarded(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	switch name[0] | 0x20 { // lower-cases letters; no other byte becomes one of these
	case 'c':
		return eqFold(name, "content-type") || eqFold(name, "content-md5") ||
			eqFold(name, "content-encoding") || eqFold(name, "content-disposition") ||
			eqFold(name, "content-language") || eqFold(name, "cache-control")
	case 'e':
		return eqFold(name, "expires")
	case 'i':
		return eqFold(name, "if-none-match") || eqFold(name, "if-match")
	case 'x':
		if !hasPrefixFold(name, "x-amz-") {
			return false
		}
		n := name[len("x-amz-"):]
		if len(n) == 0 {
			return false
		}
		switch n[0] | 0x20 {
		case 's':
			return eqFold(n, "sdk-checksum-algorithm") || eqFold(n, "storage-class") ||
				hasPrefixFold(n, "server-side-encryption")
		case 't':
			return eqFold(n, "trailer") || eqFold(n, "tagging")
		case 'd':
			return eqFold(n, "decoded-content-length")
		case 'w':
			return eqFold(n, "website-redirect-location")
		case 'm':
			return hasPrefixFold(n, "meta-")
		case 'c':
			return hasPrefixFold(n, "checksum-")
		case 'o':
			return hasPrefixFold(n, "object-lock-")
		}
	}
	return false
}

// Returned reports whether a backend response header is passed back to the client.
func Returned(name []byte) bool {
	switch {
	case eqFold(name, "etag"), eqFold(name, "x-amz-version-id"), eqFold(name, "x-amz-expiration"),
		eqFold(name, "x-amz-request-charged"):
		return true
	case hasPrefixFold(name, "x-amz-checksum-"), hasPrefixFold(name, "x-amz-server-side-encryption"):
		return true
	}
	return false
}

// eqFold compares b with the lower-case ASCII string s, ignoring b's case.
func eqFold(b []byte, s string) bool {
	return len(b) == len(s) && hasPrefixFold(b, s)
}

func hasPrefixFold(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
