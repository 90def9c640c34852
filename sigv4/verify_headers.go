package sigv4

// Headers Verify reads, by index into authHeaders.
const (
	hAuthorization = iota
	hAmzDate
	hDate
	hContentSHA
	hSecurityToken
	hCount
)

// authHeaders holds, for each header Verify reads, its first value
// (trimmed of spaces and tabs) and how many there are: what headerValue
// returns for each name, found in one pass over the headers.
type authHeaders struct {
	first [hCount][]byte
	n     [hCount]int
}

// scan fills h from hs; h must be zero.
func (h *authHeaders) scan(hs []Header) {
	for i := range hs {
		name := hs[i].Name
		var k int
		switch len(name) {
		case len("date"):
			if !equalFoldLower(name, "date") {
				continue
			}
			k = hDate
		case len("x-amz-date"):
			if !equalFoldLower(name, "x-amz-date") {
				continue
			}
			k = hAmzDate
		case len("authorization"):
			if !equalFoldLower(name, "authorization") {
				continue
			}
			k = hAuthorization
		case len("x-amz-content-sha256"): // and x-amz-security-token
			switch {
			case equalFoldLower(name, "x-amz-content-sha256"):
				k = hContentSHA
			case equalFoldLower(name, "x-amz-security-token"):
				k = hSecurityToken
			default:
				continue
			}
		default:
			continue
		}
		if h.n[k] == 0 {
			h.first[k] = trimOWS(hs[i].Value)
		}
		h.n[k]++
	}
}
