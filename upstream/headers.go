package upstream

// Forwarded reports whether a client request header (any case) is copied to
// the backend. Everything else (Authorization, Host, hop-by-hop headers,
// x-amz-date, x-amz-content-sha256, ACL grants, copy sources, …) is dropped or
// regenerated.
func Forwarded(name []byte) bool {
	switch {
	case eqFold(name, "content-type"), eqFold(name, "content-md5"),
		eqFold(name, "content-encoding"), eqFold(name, "content-disposition"),
		eqFold(name, "content-language"), eqFold(name, "cache-control"),
		eqFold(name, "expires"), eqFold(name, "if-none-match"), eqFold(name, "if-match"),
		eqFold(name, "x-amz-sdk-checksum-algorithm"), eqFold(name, "x-amz-trailer"),
		eqFold(name, "x-amz-decoded-content-length"), eqFold(name, "x-amz-storage-class"),
		eqFold(name, "x-amz-tagging"), eqFold(name, "x-amz-website-redirect-location"):
		return true
	case hasPrefixFold(name, "x-amz-meta-"), hasPrefixFold(name, "x-amz-checksum-"),
		hasPrefixFold(name, "x-amz-server-side-encryption"), hasPrefixFold(name, "x-amz-object-lock-"):
		return true
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
